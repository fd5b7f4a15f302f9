// RTN: round-to-nearest weight quantization on the QuantSpec grid, the baseline every paper
// table starts from (the "RTN" rows of GPTQ, AWQ, OmniQuant and ABQ-LLM).
// Paper: none of its own; the grid is ABQ-LLM's UniformAffineQuantizer (arXiv 2408.08554).
// Reference: ABQ-LLM algorithm/quantize/quantizer.py with lwc off (min/max per row or group,
// no clipping search), which is what quant::fake_quant computes; see framework/quant/fake_quant.h.
// Deliberate differences: none in asymmetric mode. Symmetric mode keeps q in [-Q, Q] (SmoothQuant's
// absmax rule), and per_group needs group_size to divide `in` (the reference pads with zeros in
// symmetric mode only). The weight context (Hessian) is not used.
#pragma once

#include "framework/methods/weight_quantizer.h"
#include "framework/config/options.h"

namespace abq::methods {

/// RTN has no options beyond the QuantSpec (bits, granularity, group_size, symmetric,
/// clip_ratio, bit_balance); the struct exists so every quantizer is configured the same way.
struct RtnOptions {};
/// The one declaration of the RtnOptions keys (type, range, doc; defaults are the struct's).
const config::OptionSet<RtnOptions>& rtn_options();

class RtnQuantizer final : public WeightQuantizer {
 public:
  explicit RtnQuantizer(RtnOptions options = {}) : options_(options) {}

  std::string name() const override { return "rtn"; }
  /// weight [out, in]; granularity must be per_tensor, per_channel or per_group.
  WeightQuantResult quantize(const torch::Tensor& weight, const quant::QuantSpec& spec,
                             const WeightContext& ctx) override;

 private:
  RtnOptions options_;
};

}  // namespace abq::methods

// WeightQuantizer: the plugin interface for weight quantizers (rtn, gptq, lwc, ...).
// Given one site's weight, its QuantSpec and the block context, a quantizer returns the
// fake-quantized weight together with its integer codes, scales and zero-points, laid out as
// quant::fake_quant documents them (framework/quant/fake_quant.h), so exporters and kernels can
// pack the codes without knowing which method produced them.
#pragma once

#include <string>

#include <torch/torch.h>

#include "framework/quant/quant_spec.h"

namespace abq::methods {

/// What a quantizer may know about the site beyond the weight itself.
struct WeightContext {
  std::string site;       // e.g. layers.3.mlp.down_proj.weight (model/'s site table)
  torch::Tensor hessian;  // optional [in, in] (2·XᵀX of the calibration inputs); undefined if none
};

/// fake_weight: weight's shape and dtype. codes: int32, weight's shape. scale/zero: shapes per
/// granularity as in quant/fake_quant.h ([out, 1] per_channel, [out, in/G] per_group, [] per_tensor).
/// For a disabled spec (bits >= 16) fake_weight is the weight and the rest is undefined.
struct WeightQuantResult {
  torch::Tensor fake_weight;
  torch::Tensor codes;
  torch::Tensor scale;
  torch::Tensor zero;
};

class WeightQuantizer {
 public:
  virtual ~WeightQuantizer() = default;
  /// The registry name ("rtn", "gptq", ...).
  virtual std::string name() const = 0;
  /// weight: [out, in]. Throws abq::Error for a spec the quantizer cannot apply to this weight.
  virtual WeightQuantResult quantize(const torch::Tensor& weight, const quant::QuantSpec& spec,
                                     const WeightContext& ctx) = 0;
};

}  // namespace abq::methods

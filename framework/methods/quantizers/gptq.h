// GPTQ: quantizes a linear's weight column by column and spreads each column's rounding error
// over the not-yet-quantized columns through the inverse Hessian of the layer's inputs, so the
// layer output on the calibration data changes as little as possible.
// Paper: Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
// Transformers", arXiv 2210.17323 (ICLR 2023).
// Reference: IST-DASLab/gptq gptq.py `GPTQ.fasterquant` and quant.py `Quantizer` (commit 2d65066):
// dead inputs, act-order permutation, damping λ = damp·mean(diag H), upper Cholesky factor U of
// H⁻¹, lazy-batch column loop, per-group params computed when a group starts (or static groups),
// layer loss Σ (w - q)² / U_ii² / 2.
//
// The grid is the reference's own (quant.py), NOT quant::fake_quant's:
//   per row (or per group, or the whole tensor): m⁻ = min(min w, 0), m⁺ = max(max w, 0), so the
//   grid always contains 0 (fake_quant.h does not widen); m⁻ = m⁺ = 0 → [-1, 1].
//   asymmetric: Δ = (m⁺ - m⁻)/maxq, z = ⌊-m⁻/Δ⌉ (no clamp on Δ or z, as the reference).
//   symmetric:  m⁺ = max(|m⁻|, m⁺), m⁻ = -m⁺ where m⁻ < 0, Δ = (m⁺ - m⁻)/maxq, z = (maxq + 1)/2.
//   q = clamp(⌊w/Δ⌉ + z, 0, maxq), ŵ = (q - z)·Δ, with maxq = spec.levels() - 1 (2^b - 1, or 2^b
//   with bit balance, whose Δ = range/2^b then matches ABQ's W2* grid).
// Returned layouts follow fake_quant.h: scale/zero [out, 1] per_channel, [out, in/G] per_group,
// [] per_tensor. Asymmetric codes are q ∈ [0, maxq]; symmetric specs return codes q - z ∈
// [-(maxq+1)/2, (maxq-1)/2] with zero = 0, so (codes - zero)·scale dequantizes in both modes.
//
// Deliberate differences from the reference:
//  - act_order with dynamic groups (static_groups = false) is rejected: its groups hold permuted
//    columns, which the [out, in/G] layout of consecutive columns cannot describe. Use
//    static_groups = true (the reference's own fix for act-order groups) or no groups.
//  - clip_ratio < 1 is rejected (the reference grid has no clipping; its MSE grid search is not
//    implemented).
//  - Arithmetic runs in float32, or float64 for a float64 weight (the reference: float32).
#pragma once

#include "framework/methods/weight_quantizer.h"
#include "framework/config/options.h"

namespace abq::methods {

struct GptqOptions {
  int64_t block_size = 128;    // columns per lazy-batch update
  double damp = 0.01;          // fraction of mean diag(H) added before the Cholesky factorizations
  bool act_order = false;      // quantize columns in decreasing diag(H) order
  bool static_groups = false;  // per_group: all group params from the original weight, before the loop
};
/// The one declaration of the GptqOptions keys (type, range, doc; defaults are the struct's).
const config::OptionSet<GptqOptions>& gptq_options();

/// Everything GPTQ produces for one weight: the common result plus the reference's loss proxy.
struct GptqResult {
  WeightQuantResult quant;
  double loss = 0;  // Σ (w - q)² / U_ii² / 2 over all entries (the reference prints it as "error")
};

/// The GPTQ algorithm on one weight. weight [out, in], hessian [in, in] (any positive scale, e.g.
/// 2/N·ΣxᵀX; it is not modified). Throws abq::Error for a bad shape, spec or option combination;
/// a Hessian that stays singular after damping surfaces as LibTorch's linear-algebra error.
GptqResult gptq_quantize(const torch::Tensor& weight, const torch::Tensor& hessian, const quant::QuantSpec& spec,
                         const GptqOptions& options);

class GptqQuantizer final : public WeightQuantizer {
 public:
  explicit GptqQuantizer(GptqOptions options = {}) : options_(options) {}

  std::string name() const override { return "gptq"; }
  /// Needs ctx.hessian ([in, in]); throws abq::Error naming the site when it is missing.
  WeightQuantResult quantize(const torch::Tensor& weight, const quant::QuantSpec& spec,
                             const WeightContext& ctx) override;
  /// The loss proxy of the last quantize() call (0 before any).
  double last_loss() const { return last_loss_; }
  const GptqOptions& options() const { return options_; }

 private:
  GptqOptions options_;
  double last_loss_ = 0;
};

}  // namespace abq::methods

// AWQ clip search: before rounding, each (output row, input group) of a weight is clipped to
// ±max|w_g|·r, with r chosen on a grid to minimise that group's contribution to the layer output
// error on the calibration inputs; the clipped weight is then quantized.
// Paper: Lin et al., "AWQ: Activation-aware Weight Quantization for LLM Compression and
// Acceleration", arXiv 2306.00978 (MLSys 2024); spec abq-llm-algorithm.md §22.2 "Clip search".
// Reference: mit-han-lab/llm-awq awq/quantize/auto_clip.py (`auto_clip_layer`, `auto_clip_block`,
// `apply_clip`) with quantizer.py `pseudo_quantize_tensor`.
//
// Per row o and group g (group_size from the QuantSpec; per_channel = one group of the whole row):
//   m = max |w_og|; for i = 0 .. ⌊max_shrink·n_grid⌋ - 1: r_i = 1 - i/n_grid,
//   w' = clamp(w_og, -m·r_i, m·r_i), ŵ = Q(w'), err_i = Δ H_gg Δᵀ with Δ = ŵ - w_og,
//   keep the first r_i with the smallest err (strictly smaller replaces, as the reference).
// H_gg is the group's diagonal block of WeightContext::hessian (2/N·Σ xᵀx), so err_i is the mean
// over windows of Σ_tokens (x_g·Δᵀ)², the reference's mean over tokens of the same quantity up to
// a constant factor: both pick the same r. Result: Q(clamp(w, ±m·r_best)) per (row, group).
// Q is quant::fake_quant on the experiment's QuantSpec, for the search and the result, so the
// codes/scale/zero have fake_quant's layouts. For the reference's setting (asymmetric, no bit
// balance, clip_ratio 1) this is pseudo_quantize_tensor except for groups that are all positive
// or all negative (the reference clamps z to [0, 2^b - 1]) and ranges below 1e-5.
// q_proj and k_proj are not clipped (the reference skips them: "due to qk bmm, it is hard to clip
// precisely"); they are rounded to nearest on the same grid and need no Hessian.
//
// Deliberate differences from the reference:
//  - The error uses every calibration token through H; the reference samples 512 tokens
//    (input_feat[:, 0::n_token // 512]) to bound memory.
//  - H comes from the block-wise engine (calib/closed_form_calibrator.h): the inputs of the quantized
//    stream with earlier stages already quantized (true_sequential), where the reference searches
//    on the fp block after scaling. With the calibrator's defaults that is the GPTQ convention.
//  - No starting error of 1e9 (the reference's min_errs): the unclipped weight (r = 1, i = 0) is
//    always a candidate and a NaN error never wins.
//  - Arithmetic runs in float32, or float64 for a float64 weight (the reference: the model's dtype).
#pragma once

#include <string>

#include "framework/methods/weight_quantizer.h"
#include "framework/config/options.h"

namespace abq::methods {

struct AwqClipOptions {
  int64_t n_grid = 20;      // ratio step 1/n_grid
  double max_shrink = 0.5;  // ratios 1 - i/n_grid for i < max_shrink·n_grid (0.5 → 1.00 .. 0.55)
};
/// The one declaration of the AwqClipOptions keys (type, range, doc; defaults are the struct's).
const config::OptionSet<AwqClipOptions>& awq_clip_options();

/// One clip search: the quantized result and, per row and group, the chosen ratio and threshold.
struct AwqClipResult {
  WeightQuantResult quant;
  torch::Tensor ratios;   // [out, groups] float64, 1 = not clipped
  torch::Tensor max_val;  // [out, groups] in the work dtype: the clip threshold m·r
};

/// The clip search on one weight [out, in] with the Hessian [in, in] of its inputs (any positive
/// scale). Throws abq::Error for a bad shape, a spec the search cannot use (per_tensor or
/// activation granularities, a group that does not divide `in`, clip_ratio < 1) or bad options.
AwqClipResult awq_clip_quantize(const torch::Tensor& weight, const torch::Tensor& hessian, const quant::QuantSpec& spec,
                                const AwqClipOptions& options);

/// True for the sites the reference leaves unclipped (q_proj, k_proj weights).
bool awq_clip_skips(const std::string& site);

class AwqClipQuantizer final : public WeightQuantizer {
 public:
  /// Throws abq::Error for n_grid < 1 or max_shrink outside [0, 1).
  explicit AwqClipQuantizer(AwqClipOptions options = {});

  std::string name() const override { return "awq_clip"; }
  /// Needs ctx.hessian except on q_proj / k_proj sites (rounded to nearest); throws abq::Error
  /// naming the site when it is missing.
  WeightQuantResult quantize(const torch::Tensor& weight, const quant::QuantSpec& spec,
                             const WeightContext& ctx) override;
  /// Chosen ratios [out, groups] of the last quantize() call; undefined after a skipped site.
  const torch::Tensor& last_ratios() const { return last_ratios_; }
  const AwqClipOptions& options() const { return options_; }

 private:
  AwqClipOptions options_;
  torch::Tensor last_ratios_;
};

}  // namespace abq::methods

// AWQ: activation-aware weight scaling. Input channels with large mean |x| are scaled up in the
// weights (and down in the preceding op) by s = mean|x|^r, with r chosen on a grid to minimise the
// inspected module's output error after weight quantization; the fp model is unchanged.
// Paper: Lin et al., "AWQ: Activation-aware Weight Quantization for LLM Compression and
// Acceleration", arXiv 2306.00978 (MLSys 2024).
// Reference: mit-han-lab/llm-awq awq/quantize/auto_scale.py (`_search_module_scale`,
// `auto_scale_block`, `scale_ln_fcs`, `scale_fc_fc`), pre_quant.py `run_awq` and quantizer.py
// `pseudo_quantize_tensor` (spec abq-llm-algorithm.md §22).
//
// Per block, four scaling groups, each searched on the unscaled block with inputs captured from it:
//   input_layernorm → {q, k, v}, inspecting the attention (o_proj included);
//   v_proj → o_proj, inspecting o_proj, only when v and o have the same shape (no GQA);
//   post_attention_layernorm → {gate, up}, inspecting the MLP;
//   up_proj → down_proj, inspecting down_proj.
// Search: s_x = mean over tokens of |x_j|; for r = k/grid, k = 0..grid-1: s = max(s_x^r, 1e-4),
// s ← s / sqrt(max s · min s), W' = Q(W·diag s)·diag(s)⁻¹ for every scaled linear, score = mean
// squared error of the inspected output vs its fp output; keep the best (first on ties).
// Q is the reference's pseudo_quantize_tensor on each weight's own grid from the experiment's plan
// (AwqWeightGrid: the site's bits, groups, symmetry; the reference's --w_bit / --q_group_size). With
// a zero point, per group of the input dim and L levels: Δ = max(max - min, 1e-5)/(L - 1),
// z = clamp(-⌊min/Δ⌉, 0, L - 1), ŵ = (clamp(⌊w/Δ⌉ + z, 0, L - 1) - z)·Δ; L = 2^b, or 2^b + 1 with
// bit balance (W2*). It equals quant::fake_quant's asymmetric grid except for all-positive or
// all-negative groups (z clamped here) and ranges below 1e-5. Symmetric (zero_point = False):
// Δ = max(max|w|, 1e-5)/(2^(b-1) - 1), ŵ = clamp(⌊w/Δ⌉, -2^(b-1), 2^(b-1) - 1)·Δ. A site the
// plan leaves unquantized is searched with its exact weight.
// The next block's inputs are the block's outputs before scaling (as run_awq computes them);
// scaling is output-preserving, so they equal the scaled block's outputs up to rounding.
// Deliberate differences: the clip search (auto_clip_block) is not part of this correction,
// because clipping changes the fp model and a Correction must preserve it; it belongs to the weight
// quantizer. Arithmetic runs in the model's dtype (the reference: float16 on the GPU).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/methods/correction.h"
#include "framework/config/options.h"

namespace abq::methods {

struct AwqOptions {
  int64_t grid = 20;  // number of ratios r = k/grid tried, k = 0..grid-1
};
/// The one declaration of the AwqOptions keys (type, range, doc; defaults are the struct's).
const config::OptionSet<AwqOptions>& awq_options();

/// The grid one weight is pseudo-quantized on during the search.
struct AwqWeightGrid {
  bool quantized = true;    // false: the weight is searched exact (the plan leaves it fp)
  int64_t levels = 16;      // 2^bits (+1 with bit balance)
  int64_t group_size = 0;   // input-dim group; 0: one group per row; -1: the whole tensor
  bool zero_point = true;   // asymmetric with a zero point, or symmetric
  /// From a weight site's QuantSpec. Throws abq::Error for activation-only granularities.
  static AwqWeightGrid of(const quant::QuantSpec& spec);
};

/// One scale search. scales: [in] in x's dtype; losses: the score of every ratio, in grid order.
struct AwqScaleSearch {
  torch::Tensor scales;
  double ratio = 0;
  std::vector<double> losses;
};

/// pseudo_quantize_tensor(w, …) on `grid`: w [out, in].
torch::Tensor awq_pseudo_quantize(const torch::Tensor& w, const AwqWeightGrid& grid);

/// The output of the inspected module when the scaled linears carry `weights` (same order).
using AwqInspect = std::function<torch::Tensor(const std::vector<torch::Tensor>& weights)>;

/// _search_module_scale: x [N, in] (every token of the inputs of `weights`, each [out_k, in],
/// quantized on grids[k]). Throws abq::Error when no ratio gives a finite score.
AwqScaleSearch awq_search_scales(const torch::Tensor& x, const std::vector<torch::Tensor>& weights,
                                 const std::vector<AwqWeightGrid>& grids, const AwqOptions& options,
                                 const AwqInspect& inspect);

class Awq final : public Correction {
 public:
  /// Throws abq::Error for grid < 1.
  explicit Awq(AwqOptions options = {});
  std::string name() const override { return "awq"; }
  bool reads_weight_specs() const override { return true; }

  /// Scales folded by the last apply(), keyed by the op that was divided
  /// ("layers.{i}.input_layernorm.weight", "layers.{i}.self_attn.v_proj.weight", ...).
  const std::map<std::string, AwqScaleSearch>& searches() const { return searches_; }
  const AwqOptions& options() const { return options_; }

 protected:
  /// Searches every block against `weight_specs` (required). Throws abq::Error when a site's group
  /// size does not divide its linear's input size.
  void run(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration_tokens,
           const WeightSpecs& weight_specs) override;

 private:
  AwqOptions options_;
  std::map<std::string, AwqScaleSearch> searches_;
};

}  // namespace abq::methods

// SmoothQuant (Xiao et al., ICML 2023): migrates activation outliers into the weights with a
// per-input-channel scale s folded into the preceding RMSNorm (weight ÷ s) and the linears it
// feeds (columns × s). Canonical LLaMA pairs only: input_layernorm -> {q, k, v} and
// post_attention_layernorm -> {gate, up}; o_proj and down_proj are not smoothed
// (mit-han-lab/smoothquant smooth.py; spec abq-llm-algorithm.md §20).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/methods/correction.h"
#include "framework/methods/corrections/activation_stats.h"
#include "framework/config/options.h"

namespace abq::methods {

struct SmoothQuantOptions {
  double alpha = 0.5;  // migration strength in [0, 1]; SmoothQuant's argparse default
};
/// The one declaration of the SmoothQuantOptions keys (type, range, doc; defaults are the struct's).
const config::OptionSet<SmoothQuantOptions>& smoothquant_options();

/// s_j = max|X_j|^α / max|W_j|^(1−α), clamped at ≥ 1e-5, where max|W_j| is the abs-max of input
/// column j over all `weights` jointly (each [out_k, C]), itself clamped at ≥ 1e-5 as in smooth.py.
/// act_absmax [C] -> s [C] float32 on act_absmax's device.
torch::Tensor smoothquant_scales(const torch::Tensor& act_absmax, const std::vector<torch::Tensor>& weights,
                                 double alpha);

/// Folds s [C]: norm_weight ← norm_weight ÷ s, each linear's weight ← W·diag(s). The product
/// linear(rms_norm(x, w ÷ s)) · diag(s) is unchanged in exact arithmetic. Biases are untouched.
void fold_smoothing_scales(torch::Tensor& norm_weight, const std::vector<model::Linear*>& linears,
                           const torch::Tensor& s);

class SmoothQuant final : public Correction {
 public:
  /// Throws abq::Error when alpha is outside [0, 1].
  explicit SmoothQuant(SmoothQuantOptions options = {});
  std::string name() const override { return "smoothquant"; }

  /// Scales used by the last apply(), float32 [C], keyed by the norm they were folded into
  /// ("layers.{i}.input_layernorm.weight", "layers.{i}.post_attention_layernorm.weight").
  const std::map<std::string, torch::Tensor>& scales() const { return scales_; }
  const SmoothQuantOptions& options() const { return options_; }

 protected:
  void run(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration_tokens,
           const WeightSpecs& weight_specs) override;

 private:
  SmoothQuantOptions options_;
  std::map<std::string, torch::Tensor> scales_;
};

}  // namespace abq::methods

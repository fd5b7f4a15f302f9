// Logit-level metrics of a quantized model against its unquantized reference on the same
// positions (evaluation-protocols.md §7, aligned with llama.cpp's llama-perplexity KL mode):
// P = softmax(fp logits), Q = softmax(quantized logits), both as logits - logsumexp (token_logprobs.h);
// KL_t = sum_v P(v) (log P(v) - log Q(v)) (direction fp || quant); top-1 agreement with ties to the
// lowest index (torch argmax); dNLL_t = NLL^Q_t - NLL^P_t; dp_t = Q(x_t) - P(x_t).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace abq::evaluators {

class LogitMetrics {
 public:
  /// logits_q, logits_p: [N, V] at the same N positions; targets: [N] int64 next tokens.
  /// Returns the sum of KL over these positions (for per-window means).
  double add(const torch::Tensor& logits_q, const torch::Tensor& logits_p, const torch::Tensor& targets);

  int64_t positions() const { return int64_t(kl_.size()); }
  double kl_mean() const;
  /// Percentile q in [0, 100] of the per-position KL, numpy's default (linear) interpolation.
  double kl_percentile(double q) const;
  double kl_max() const;
  double top1_agreement() const { return positions() ? double(top1_same_) / double(positions()) : NAN; }
  double delta_nll_mean() const { return positions() ? dnll_sum_ / double(positions()) : NAN; }
  double delta_p_mean() const { return positions() ? dp_sum_ / double(positions()) : NAN; }
  double delta_p_rms() const;

 private:
  std::vector<double> kl_;
  int64_t top1_same_ = 0;
  double dnll_sum_ = 0, dp_sum_ = 0, dp_sq_sum_ = 0;
};

}  // namespace abq::evaluators

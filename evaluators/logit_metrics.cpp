#include "evaluators/logit_metrics.h"

#include <algorithm>
#include <cmath>

#include "evaluators/token_logprobs.h"
#include "framework/core/error.h"

namespace abq::evaluators {

double LogitMetrics::add(const torch::Tensor& logits_q, const torch::Tensor& logits_p, const torch::Tensor& targets) {
  ABQ_ASSERT(logits_q.sizes() == logits_p.sizes() && logits_q.dim() == 2 && targets.size(0) == logits_q.size(0),
             "logit metrics: shape mismatch");
  torch::NoGradGuard no_grad;
  auto lq = log_probs(logits_q);                        // [N, V]
  auto lp = log_probs(logits_p.to(lq.device()));        // [N, V]
  auto kl = (lp.exp() * (lp - lq)).sum(-1).to(torch::kCPU, torch::kFloat64).contiguous();  // [N]
  auto same = (lq.argmax(-1) == lp.argmax(-1)).sum().item<int64_t>();
  auto t = targets.to(lq.device()).unsqueeze(-1);
  auto tq = lq.gather(-1, t).squeeze(-1).to(torch::kCPU, torch::kFloat64);
  auto tp = lp.gather(-1, t).squeeze(-1).to(torch::kCPU, torch::kFloat64);
  auto dp = (tq.exp() - tp.exp());
  const double* k = kl.data_ptr<double>();
  double kl_sum = 0;
  for (int64_t i = 0; i < kl.size(0); ++i) {
    kl_.push_back(k[i]);
    kl_sum += k[i];
  }
  top1_same_ += same;
  dnll_sum_ += (tp - tq).sum().item<double>();  // NLL^Q - NLL^P = log P(x) - log Q(x)
  dp_sum_ += dp.sum().item<double>();
  dp_sq_sum_ += dp.pow(2).sum().item<double>();
  return kl_sum;
}

double LogitMetrics::kl_mean() const {
  if (kl_.empty()) return NAN;
  double s = 0;
  for (double v : kl_) s += v;
  return s / double(kl_.size());
}

double LogitMetrics::kl_percentile(double q) const {
  if (kl_.empty()) return NAN;
  std::vector<double> sorted = kl_;
  std::sort(sorted.begin(), sorted.end());
  double pos = q / 100.0 * double(sorted.size() - 1);  // numpy.percentile, method="linear"
  size_t lo = size_t(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - double(lo)) * (sorted[hi] - sorted[lo]);
}

double LogitMetrics::kl_max() const {
  return kl_.empty() ? NAN : *std::max_element(kl_.begin(), kl_.end());
}

double LogitMetrics::delta_p_rms() const {
  return positions() ? std::sqrt(dp_sq_sum_ / double(positions())) : NAN;
}

}  // namespace abq::evaluators

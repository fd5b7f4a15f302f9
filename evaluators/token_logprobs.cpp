#include "evaluators/token_logprobs.h"

namespace abq::evaluators {

torch::Tensor target_logprobs(const torch::Tensor& logits, const torch::Tensor& targets) {
  auto x = logits.to(torch::kFloat32);
  auto picked = x.gather(-1, targets.to(x.device()).unsqueeze(-1)).squeeze(-1);
  auto lse = torch::logsumexp(x, -1);
  return picked.to(torch::kCPU, torch::kFloat64) - lse.to(torch::kCPU, torch::kFloat64);
}

torch::Tensor log_probs(const torch::Tensor& logits) {
  auto x = logits.to(torch::kFloat32);
  return x - torch::logsumexp(x, -1, /*keepdim=*/true);
}

}  // namespace abq::evaluators

// Log-probabilities of chosen tokens under a model's logits, scored exactly. Why not
// `log_softmax(...).gather(...)`: LibTorch's fp32 log_softmax over a 49k-token vocabulary is biased
// low by ~1.6e-5 nats per token on the CPU (its vectorised exp), which summed over a continuation
// moves zero-shot choices and perplexities in the fifth digit. log p = x_t - logsumexp(x): fp32
// logsumexp is accurate to ~5e-8, and the subtraction is done in fp64.
#pragma once

#include <torch/torch.h>

namespace abq::evaluators {

// logits [..., V] (any float dtype, any device), targets [...] (int64): log p(target) as fp64 on the CPU.
torch::Tensor target_logprobs(const torch::Tensor& logits, const torch::Tensor& targets);

// logits [..., V] -> log-probabilities [..., V] in fp32, as logits - logsumexp(logits).
torch::Tensor log_probs(const torch::Tensor& logits);

}  // namespace abq::evaluators

// The block losses of learned calibration (spec abq-llm-algorithm.md §9; reference:
// bytedance/ABQ-LLM algorithm/quantize/abq_llm.py, OpenGVLab/OmniQuant quantize/omniquant.py):
//   mse           MSE(Y_fp, Y_q)                     mean over all elements
//   aug_mse       MSE(Y_fp2, Y_q)                    Y_fp2 = fp block on the quantized input
//   dlc           -log|c(Y_q, Y_fp)| - log|c(Y_q, Y_fp2)|, c = mean over tokens of the cosine over
//                 the hidden dim (eps 1e-8)
//   attention_kl  |KLDiv(log_softmax(A_fp), softmax(A_q))| + |KLDiv(log_softmax(A_q), softmax(A_fp))|
//                 on head-mean attention probabilities [B, T, T], KLDiv = PyTorch KLDivLoss with
//                 reduction "mean" (divides by the element count). The reference re-applies softmax
//                 to probabilities (double_softmax = true, reproduced); double_softmax = false is the
//                 KL between the probabilities themselves — a different method, labelled as such.
#pragma once

#include <torch/torch.h>

#include "framework/methods/learned/learned_options.h"

namespace abq::methods {

struct BlockLoss {
  torch::Tensor total;  // 0-dim, on the graph
  double mse = 0, aug_mse = 0, dlc = 0, attention_kl = 0;  // the enabled terms' values (0 when off)
};

/// y_q, y_fp [B, T, C]; y_fp2 needed for aug_mse / dlc; attn_q, attn_fp [B, T, T] for attention_kl.
/// Throws abq::Error when a needed tensor is missing or shapes differ, or when no term is enabled.
BlockLoss block_loss(const torch::Tensor& y_q, const torch::Tensor& y_fp, const torch::Tensor& y_fp2,
                     const torch::Tensor& attn_q, const torch::Tensor& attn_fp, const LossOptions& options);

}  // namespace abq::methods

// RMSNorm (Zhang & Sennrich 2019) as used by LLaMA: y = x / sqrt(mean(x²) + eps) · w.
#pragma once

#include <torch/torch.h>

namespace abq::model {

/// x [..., C], weight [C] -> [..., C] in x's dtype. Matches HF LlamaRMSNorm: half-precision inputs
/// are normalised in fp32 and cast back before the weight multiply.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

}  // namespace abq::model

// Linear layer as plain tensors: y = x·Wᵀ + b (PyTorch / HF layout, W is [out, in]).
#pragma once

#include <torch/torch.h>

namespace abq::model {

struct Linear {
  torch::Tensor weight;  // [out, in]
  torch::Tensor bias;    // [out], or undefined
};

/// x [..., in] -> [..., out], in the weight's dtype.
torch::Tensor linear_forward(const torch::Tensor& x, const Linear& linear);

}  // namespace abq::model

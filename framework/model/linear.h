// Linear layer as plain tensors: y = x·Wᵀ + b (PyTorch / HF layout, W is [out, in]).
//
// The layer runs the GEMM its weight's storage calls for (as CTranslate2's Dense layer does): an
// fp weight (an fp model, or the fake-quantized weight of a simulated run) goes through
// torch::linear; a linear holding only its packed form (quant.execution: packed releases the fp
// weight) runs the packed kernels. A simulated run keeps both: the fp weight computes, the packed
// form is what export writes.
#pragma once

#include <memory>

#include <torch/torch.h>

#include "framework/model/packed_linear.h"

namespace abq::model {

struct Linear {
  torch::Tensor weight;  // [out, in], or undefined when only `packed` is held
  torch::Tensor bias;    // [out], or undefined
  std::shared_ptr<const PackedLinear> packed = nullptr;  // the quantized codes in the kernels' layout, or null
};

/// x [..., in] -> [..., out], in the weight's dtype (x's dtype on the packed path).
torch::Tensor linear_forward(const torch::Tensor& x, const Linear& linear);

}  // namespace abq::model

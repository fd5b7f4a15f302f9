#include "framework/model/linear.h"

#include "framework/core/error.h"

namespace abq::model {

torch::Tensor linear_forward(const torch::Tensor& x, const Linear& linear) {
  // torch::linear fuses the bias add (addmm) and accepts an undefined bias.
  if (linear.weight.defined()) return torch::linear(x, linear.weight, linear.bias);
  ABQ_ASSERT(linear.packed, "a linear holds neither an fp weight nor a packed one");
  return linear.packed->forward(x, linear.bias);
}

}  // namespace abq::model

#include "framework/model/linear.h"

namespace abq::model {

torch::Tensor linear_forward(const torch::Tensor& x, const Linear& linear) {
  // torch::linear fuses the bias add (addmm) and accepts an undefined bias.
  return torch::linear(x, linear.weight, linear.bias);
}

}  // namespace abq::model

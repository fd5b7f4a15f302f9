#include "framework/calib/hessian.h"

#include "framework/core/error.h"

namespace abq::calib {

void HessianAccumulator::add(const torch::Tensor& x) {
  ABQ_ASSERT(x.dim() == 2 || x.dim() == 3, "Hessian input must be [B, T, in] or [T, in], got ", x.dim(), " dims");
  const int64_t batch = x.dim() == 3 ? x.size(0) : 1;
  auto flat = x.detach().reshape({-1, x.size(-1)}).to(torch::kFloat32);  // [B*T, in]
  auto xtx = flat.t().matmul(flat);                                        // [in, in]
  if (sum_.defined()) {
    sum_.add_(xtx);
  } else {
    sum_ = xtx;
  }
  windows_ += batch;
}

torch::Tensor HessianAccumulator::hessian() const {
  if (windows_ == 0) throw Error("no calibration inputs reached this linear; cannot form its Hessian");
  return sum_ * (2.0 / double(windows_));
}

double layer_output_loss(const torch::Tensor& weight, const torch::Tensor& fake, const torch::Tensor& hessian) {
  auto delta = (weight.to(torch::kFloat64) - fake.to(torch::kFloat64));        // [out, in]
  auto h = hessian.to(delta.device(), torch::kFloat64);                       // [in, in]
  return (delta.matmul(h) * delta).sum().item<double>() / 2.0;
}

}  // namespace abq::calib

#include "framework/quant/error_metrics.h"

#include <cmath>
#include <limits>
#include <sstream>

#include "framework/core/error.h"

namespace abq::quant {

namespace {

// Both tensors as float64 on the CPU-or-device of x, detached: metrics never carry gradients.
std::pair<torch::Tensor, torch::Tensor> as_double(const torch::Tensor& x, const torch::Tensor& x_hat,
                                                  const char* what) {
  if (!x.defined() || !x_hat.defined()) throw Error(cat(what, ": tensor is undefined"));
  if (x.sizes() != x_hat.sizes()) {
    std::ostringstream out;
    out << what << ": shapes differ; reference " << x.sizes() << ", quantized " << x_hat.sizes();
    throw Error(out.str());
  }
  if (x.numel() == 0) throw Error(cat(what, ": empty tensor"));
  return {x.detach().to(torch::kDouble), x_hat.detach().to(x.device(), torch::kDouble)};
}

}  // namespace

double mse(const torch::Tensor& x, const torch::Tensor& x_hat) {
  const auto [a, b] = as_double(x, x_hat, "mse");
  return (a - b).pow(2).mean().item<double>();
}

double sqnr_db(const torch::Tensor& x, const torch::Tensor& x_hat) {
  const auto [a, b] = as_double(x, x_hat, "sqnr_db");
  const double signal = a.pow(2).sum().item<double>();
  const double noise = (a - b).pow(2).sum().item<double>();
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  if (signal == 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

}  // namespace abq::quant

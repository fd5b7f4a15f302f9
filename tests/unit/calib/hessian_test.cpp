// HessianAccumulator and layer_output_loss against the defining formulas computed directly in
// float64 (H = 2/N·Σ xᵀx with N windows, as the GPTQ reference's add_batch; loss = mean over windows
// of Σ_tokens ||x·ΔWᵀ||²).
#include "framework/calib/hessian.h"

#include <gtest/gtest.h>

#include "framework/core/error.h"

namespace abq::calib {
namespace {

TEST(Hessian, TwoOverWindowsTimesSumOfOuterProducts) {
  torch::manual_seed(5);
  auto a = torch::randn({1, 6, 4}, torch::kFloat64);  // one window of 6 tokens
  auto b = torch::randn({2, 3, 4}, torch::kFloat64);  // two windows of 3 tokens
  HessianAccumulator h;
  h.add(a);
  h.add(b);
  EXPECT_EQ(h.windows(), 3);
  auto x = torch::cat({a.reshape({-1, 4}), b.reshape({-1, 4})});  // [12, 4]
  auto expected = 2.0 / 3.0 * x.t().matmul(x);
  EXPECT_EQ(h.hessian().scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(h.hessian().to(torch::kFloat64), expected, 1e-5, 1e-5));
}

TEST(Hessian, EmptyAccumulatorIsAnError) {
  HessianAccumulator h;
  EXPECT_THROW(h.hessian(), Error);
}

TEST(Hessian, LayerOutputLossIsMeanWindowOutputError) {
  torch::manual_seed(6);
  auto x = torch::randn({3, 5, 8}, torch::kFloat64);  // 3 windows
  auto w = torch::randn({4, 8}, torch::kFloat64);
  auto q = w + 0.01 * torch::randn({4, 8}, torch::kFloat64);
  HessianAccumulator h;
  h.add(x);
  const double direct = x.matmul((w - q).t()).square().sum().item<double>() / 3.0;
  EXPECT_NEAR(layer_output_loss(w, q, h.hessian()), direct, 1e-5 * direct);
}

}  // namespace
}  // namespace abq::calib

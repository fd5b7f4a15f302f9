// mse / sqnr_db: expected values computed by hand from the definitions
// mse = mean((x - x̂)²), SQNR = 10·log10(Σx² / Σ(x - x̂)²).
#include "framework/quant/error_metrics.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "framework/core/error.h"

namespace abq::quant {
namespace {

TEST(ErrorMetrics, KnownValues) {
  // x = [1, 2, 3, 4], x̂ = [1, 2, 3, 5]: error [0, 0, 0, -1]; mse = 1/4; Σx² = 30 -> SQNR = 10·log10(30)
  const auto x = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f});
  const auto xh = torch::tensor({1.0f, 2.0f, 3.0f, 5.0f});
  EXPECT_DOUBLE_EQ(mse(x, xh), 0.25);
  EXPECT_NEAR(sqnr_db(x, xh), 14.771212547196624, 1e-12);
  // x = [3, 4], x̂ = [3.3, 3.6] (float64): error [-0.3, 0.4] -> mse 0.125, Σx² = 25, noise 0.25 -> 20 dB
  const auto y = torch::tensor({3.0, 4.0}, torch::kDouble);
  const auto yh = torch::tensor({3.3, 3.6}, torch::kDouble);
  EXPECT_NEAR(mse(y, yh), 0.125, 1e-12);
  EXPECT_NEAR(sqnr_db(y, yh), 20.0, 1e-9);
}

TEST(ErrorMetrics, ExactAndDegenerateCases) {
  const auto x = torch::tensor({1.0f, -2.0f});
  EXPECT_EQ(mse(x, x), 0.0);
  EXPECT_EQ(sqnr_db(x, x), std::numeric_limits<double>::infinity());
  EXPECT_EQ(sqnr_db(torch::zeros({2}), x), -std::numeric_limits<double>::infinity());
}

TEST(ErrorMetrics, ShapeMismatch) {
  try {
    mse(torch::zeros({2, 3}), torch::zeros({3, 2}));
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "mse: shapes differ; reference [2, 3], quantized [3, 2]");
  }
}

}  // namespace
}  // namespace abq::quant

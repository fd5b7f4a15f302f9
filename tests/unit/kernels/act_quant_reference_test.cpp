// Expected values: per-token quantization worked out by hand with the ABQ-LLM quantizer formulas
// (spec abq-llm-algorithm.md §5), written next to each case.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/reference/act_quant_reference.h"

namespace abq::kernels::reference {
namespace {

TEST(ActQuantReference, HandComputedUnsigned) {
  // x = [−1, 0, 0.5, 2], A2 (levels 4): Δ = 3/3 = 1, z = rint(1/1) = 1,
  // q = rint(x) + 1 = [0, 1, rint(0.5) = 0 (half-even) + 1, 3] = [0, 1, 1, 3].
  const auto a = quantize_activations({-1.0f, 0.0f, 0.5f, 2.0f}, 1, 4, {2, 0, 0});
  EXPECT_EQ(a.codes, (std::vector<int32_t>{0, 1, 1, 3}));
  EXPECT_EQ(a.scales, std::vector<float>{1.0f});
  EXPECT_EQ(a.zeros, std::vector<int32_t>{1});
}

TEST(ActQuantReference, HandComputedSigned) {
  // x = [−1.2, 0, 0.5, 2], signed A4: Δ = 2/7; x/Δ = [−4.2, 0, 1.75, 7] → [−4, 0, 2, 7].
  const auto a = quantize_activations({-1.2f, 0.0f, 0.5f, 2.0f}, 1, 4, {4, 0, 1});
  EXPECT_EQ(a.codes, (std::vector<int32_t>{-4, 0, 2, 7}));
  EXPECT_FLOAT_EQ(a.scales[0], 2.0f / 7.0f);
  EXPECT_TRUE(a.zeros.empty());
}

TEST(ActQuantReference, RangeWithoutZeroGivesNegativeZeroPoint) {
  // x = [1, 2, 3, 4], A2: Δ = 1, z = rint(−1) = −1, q = x − 1 = [0, 1, 2, 3]; the range is not widened to 0.
  const auto a = quantize_activations({1.0f, 2.0f, 3.0f, 4.0f}, 1, 4, {2, 0, 0});
  EXPECT_EQ(a.codes, (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(a.zeros, std::vector<int32_t>{-1});
}

TEST(ActQuantReference, FiveLevelBitBalance) {
  // bits 3, levels 5 (2-bit with bit balance): x = [0, 1, 2, 3, 4] → Δ = 4/4 = 1, z = 0, q = x.
  const auto a = quantize_activations({0, 1, 2, 3, 4}, 1, 5, {3, 5, 0});
  EXPECT_EQ(a.codes, (std::vector<int32_t>{0, 1, 2, 3, 4}));
}

TEST(ActQuantReference, DequantErrorWithinHalfStep) {
  std::mt19937 rng(9);
  std::normal_distribution<float> v(0.0f, 3.0f);
  std::vector<float> x(4 * 256);
  for (auto& e : x) e = v(rng);
  for (int bits : {2, 4, 8})
    for (int sym : {0, 1}) {
      const auto a = quantize_activations(x, 4, 256, {bits, 0, sym});
      for (int m = 0; m < 4; ++m)
        for (int k = 0; k < 256; ++k) {
          const float deq = (a.codes[m * 256 + k] - (sym ? 0 : a.zeros[m])) * a.scales[m];
          // Signed grids clip the most negative level's partner; unsigned with rounded z can shift the
          // grid by ≤ Δ/2, so allow one full step.
          ASSERT_LE(std::fabs(deq - x[m * 256 + k]), a.scales[m] * 1.0001f) << bits << sym;
        }
    }
}

}  // namespace
}  // namespace abq::kernels::reference

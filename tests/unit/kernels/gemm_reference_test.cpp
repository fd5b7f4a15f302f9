// Expected values: the tiny GEMMs are worked out by hand below (each product written out); the
// random cases compare the folded integer form against the direct Σ (xq − zx)(wq − zw) and the
// naive double formulation, which must agree exactly (integers) or to float rounding (outputs).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "framework/core/error.h"
#include "kernels/reference/gemm_reference.h"
#include "random_operands.h"

namespace abq::kernels::reference {
namespace {

// M=2, N=2, K=4; W2 unsigned per-channel, A4 unsigned per-token.
//   x − zx: row0 [1,2,3,4] − 2 = [−1, 0, 1, 2];   row1 [15,0,7,8] − 8 = [7, −8, −1, 0]
//   w − zw: col0 [0,1,2,3] − 1 = [−1, 0, 1, 2];   col1 [3,3,0,1] − 2 = [1, 1, −2, −1]
//   I00 = 1+0+1+4 = 6;  I01 = −1+0−2−2 = −5;  I10 = −7+0−1+0 = −8;  I11 = 7−8+2+0 = 1
//   y = sx·sw·I + bias, sx = [2, 0.5], sw = [0.5, 0.25], bias = [1, −1]:
//   y00 = 2·0.5·6+1 = 7;  y01 = 2·0.25·(−5)−1 = −3.5;  y10 = 0.5·0.5·(−8)+1 = −1;  y11 = 0.5·0.25·1−1 = −0.875
struct Tiny {
  WeightCodes w;
  ActCodes x;
  std::vector<float> bias{1.0f, -1.0f};
  Tiny() {
    w.fmt = {2, 0, 0, 0};
    w.n = 2;
    w.k = 4;
    w.codes = {0, 1, 2, 3, 3, 3, 0, 1};
    w.scales = {0.5f, 0.25f};
    w.zeros = {1, 2};
    x.fmt = {4, 0, 0};
    x.m = 2;
    x.k = 4;
    x.codes = {1, 2, 3, 4, 15, 0, 7, 8};
    x.scales = {2.0f, 0.5f};
    x.zeros = {2, 8};
  }
};

TEST(GemmReference, HandComputedTinyGemm) {
  Tiny t;
  EXPECT_EQ(integer_group_sums(t.w, t.x), (std::vector<int64_t>{6, -5, -8, 1}));
  EXPECT_EQ(gemm_reference(t.w, t.x, t.bias), (std::vector<float>{7.0f, -3.5f, -1.0f, -0.875f}));
  const std::vector<double> naive = gemm_naive(t.w, t.x, t.bias);
  EXPECT_EQ(naive, (std::vector<double>{7.0, -3.5, -1.0, -0.875}));
}

// The folded terms of I00 spelled out: D = 1·0+2·1+3·2+4·3 = 20, Sx = 10, Sw = 6, G = 4,
// zx = 2, zw = 1: 20 − 1·10 − 2·6 + 4·2·1 = 6.
TEST(GemmReference, FoldedTermsOfOneEntry) {
  Tiny t;
  t.x.m = 1;
  t.x.codes.resize(4);
  t.x.scales.resize(1);
  t.x.zeros.resize(1);
  t.w.n = 1;
  t.w.codes.resize(4);
  t.w.scales.resize(1);
  t.w.zeros.resize(1);
  EXPECT_EQ(integer_group_sums(t.w, t.x), std::vector<int64_t>{20 - 10 - 12 + 8});
}

// Two groups of 64 with constant codes: signed A2 codes all 1, sx = 0.25;
//   group 0: w = 3, zw = 1, sw = 0.5 → I0 = 64·1·(3−1) = 128
//   group 1: w = 2, zw = 3, sw = 2   → I1 = 64·1·(2−3) = −64
//   y = 0.25·(0.5·128 + 2·(−64)) = 0.25·(64 − 128) = −16
TEST(GemmReference, HandComputedTwoGroups) {
  WeightCodes w;
  w.fmt = {2, 0, 0, 64};
  w.n = 1;
  w.k = 128;
  w.codes.assign(128, 3);
  for (int k = 64; k < 128; ++k) w.codes[k] = 2;
  w.scales = {0.5f, 2.0f};
  w.zeros = {1, 3};
  ActCodes x;
  x.fmt = {2, 0, 1};
  x.m = 1;
  x.k = 128;
  x.codes.assign(128, 1);
  x.scales = {0.25f};
  EXPECT_EQ(integer_group_sums(w, x), (std::vector<int64_t>{128, -64}));
  EXPECT_EQ(gemm_reference(w, x, {}), std::vector<float>{-16.0f});
}

TEST(GemmReference, FoldingEqualsDirectSumsForEveryFormat) {
  std::mt19937 rng(7);
  const int groups[3] = {0, 64, 128};
  int case_index = 0;
  for (int wb = 1; wb <= 9; ++wb)
    for (int xb = 2; xb <= 8; ++xb)
      for (int sym = 0; sym < 2; ++sym) {
        abq_weight_format wf{wb == 9 ? 3 : wb, wb == 9 ? 5 : 0, sym && wb >= 2 && wb != 9, groups[case_index++ % 3]};
        abq_act_format xf{xb, 0, sym};
        const int64_t m = 1 + case_index % 5, n = 3, k = 256;
        auto w = testing::random_weights(rng, n, k, wf);
        auto x = testing::random_acts(rng, m, k, xf);
        ASSERT_EQ(integer_group_sums(w, x), integer_group_sums_direct(w, x)) << testing::describe_case(m, n, k, wf, xf);
      }
}

TEST(GemmReference, FloatEpilogueAgreesWithNaiveDoubleFormula) {
  std::mt19937 rng(11);
  for (int group : {0, 64, 128})
    for (int xb : {2, 4, 8, 16}) {
      abq_weight_format wf{4, 0, 0, group};
      abq_act_format xf{xb, 0, xb == 2};
      const int64_t m = 5, n = 7, k = 384;
      auto w = testing::random_weights(rng, n, k, wf);
      auto x = testing::random_acts(rng, m, k, xf);
      std::vector<float> bias(n);
      for (auto& b : bias) b = std::uniform_real_distribution<float>(-1, 1)(rng);
      const auto ref = gemm_reference(w, x, bias);
      const auto naive = gemm_naive(w, x, bias);
      double scale = 0;
      for (double v : naive) scale = std::max(scale, std::fabs(v));
      for (size_t i = 0; i < ref.size(); ++i)
        ASSERT_NEAR(ref[i], naive[i], 1e-5 * scale + 1e-6) << testing::describe_case(m, n, k, wf, xf) << " at " << i;
    }
}

TEST(GemmReference, RejectsOutOfRangeCodeWithPosition) {
  Tiny t;
  t.w.codes[5] = 4;  // 2-bit unsigned allows 0..3
  try {
    gemm_reference(t.w, t.x, t.bias);
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "weights: code 4 at [1,1] is outside [0, 3] of the 2-bit format");
  }
}

TEST(GemmReference, W2StarAcceptsFiveLevelsOnly) {
  WeightCodes w;
  w.fmt = {3, 5, 0, 0};
  w.n = 1;
  w.k = 4;
  w.codes = {0, 4, 2, 1};
  w.scales = {1.0f};
  w.zeros = {2};
  EXPECT_NO_THROW(validate(w));
  w.codes[1] = 5;
  EXPECT_THROW(validate(w), Error);
}

TEST(GemmReference, RejectsSignedOneBitAndBadGroup) {
  EXPECT_EQ(launch::check_weight_format({1, 0, 1, 0}),
            "signed weights need bits >= 2 and levels = 2^bits; got bits=1 levels=2 (use unsigned codes with "
            "zero-points for W2* and 1-bit)");
  EXPECT_EQ(launch::check_weight_format({4, 0, 0, 32}), "weight group_size must be 0 (per output channel), 64 or 128, got 32");
  EXPECT_EQ(launch::check_problem(1, 8, 192, {4, 0, 0, 0}, {8, 0, 0}),
            "K must be a positive multiple of 128 (one b1 MMA step), got K=192");
}

}  // namespace
}  // namespace abq::kernels::reference

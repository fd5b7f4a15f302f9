// fake_quant: expected Δ, z, codes and x̂ are computed by hand in the comment above each check, from
// the formulas of ABQ-LLM's quantizer.py (§5 of the algorithm spec) and SmoothQuant's absmax rule.
// Inputs are chosen as binary fractions so every hand value is exact in float32. The last test
// compares against an independent plain-loop implementation of the asymmetric per-group formula.
#include "framework/quant/fake_quant.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "framework/core/error.h"

namespace abq::quant {
namespace {

torch::Tensor vec(std::vector<float> values) { return torch::tensor(values, torch::kFloat); }

void expect_equal(const torch::Tensor& actual, const torch::Tensor& expected, double tol = 1e-6) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(actual.to(torch::kDouble), expected.to(torch::kDouble), 0.0, tol))
      << "actual\n" << actual << "\nexpected\n" << expected;
}

QuantSpec spec(int bits, Granularity g, bool symmetric = false) {
  QuantSpec s;
  s.bits = bits;
  s.granularity = g;
  s.symmetric = symmetric;
  return s;
}

FakeQuantOptions with_codes() {
  FakeQuantOptions o;
  o.with_codes = true;
  return o;
}

TEST(FakeQuant, AsymmetricZeroPointOnOneRow) {
  // x = [-1, -0.2, 0.3, 2.5], 3 bits (8 levels): Δ = 3.5/7 = 0.5, z = ⌊1/0.5⌉ = 2
  // x/Δ = [-2, -0.4, 0.6, 5] -> ⌊⌉ [-2, 0, 1, 5] -> +z [0, 2, 3, 7]; x̂ = (q-2)·0.5 = [-1, 0, 0.5, 2.5]
  const auto x = vec({-1.0f, -0.2f, 0.3f, 2.5f}).reshape({1, 4});
  const auto q = fake_quant(x, spec(3, Granularity::per_token), with_codes());
  expect_equal(q.scale, torch::full({1, 1}, 0.5));
  expect_equal(q.zero, torch::full({1, 1}, 2.0));
  expect_equal(q.codes, torch::tensor({0, 2, 3, 7}, torch::kInt).reshape({1, 4}));
  EXPECT_EQ(q.codes.scalar_type(), torch::kInt);
  expect_equal(q.fake, vec({-1.0f, 0.0f, 0.5f, 2.5f}).reshape({1, 4}));
}

TEST(FakeQuant, ZeroPointRoundsHalfToEvenAndRangeIsNotWidened) {
  // x = [-0.25, 0.5, 1.25], 2 bits plain (4 levels): Δ = 1.5/3 = 0.5, -min/Δ = 0.5 -> z = 0 (half to even)
  // x/Δ = [-0.5, 1, 2.5] -> [0, 1, 2] (both ties to even); x̂ = [0, 0.5, 1.0]: the min -0.25 is lost
  // because the range is not widened to contain 0 and z rounded down.
  const auto q = fake_quant(vec({-0.25f, 0.5f, 1.25f}), spec(2, Granularity::per_tensor), with_codes());
  EXPECT_EQ(q.scale.dim(), 0);
  EXPECT_DOUBLE_EQ(q.scale.item<double>(), 0.5);
  EXPECT_DOUBLE_EQ(q.zero.item<double>(), 0.0);
  expect_equal(q.codes, torch::tensor({0, 1, 2}, torch::kInt));
  expect_equal(q.fake, vec({0.0f, 0.5f, 1.0f}));
}

TEST(FakeQuant, Symmetric) {
  // 4 bits: Q = 7, absmax 3.5 -> Δ = 0.5, z = 0
  // x/Δ = [-7, 1.5, 2.5, 0.5, 6] -> [-7, 2, 2, 0, 6]; x̂ = [-3.5, 1, 1, 0, 3]
  const auto q = fake_quant(vec({-3.5f, 0.75f, 1.25f, 0.25f, 3.0f}), spec(4, Granularity::per_tensor, true),
                            with_codes());
  EXPECT_DOUBLE_EQ(q.scale.item<double>(), 0.5);
  EXPECT_DOUBLE_EQ(q.zero.item<double>(), 0.0);
  expect_equal(q.codes, torch::tensor({-7, 2, 2, 0, 6}, torch::kInt));
  expect_equal(q.fake, vec({-3.5f, 1.0f, 1.0f, 0.0f, 3.0f}));
}

TEST(FakeQuant, SymmetricInt8IsSmoothQuantAbsmax) {
  // SmoothQuant W8A8 per channel: Δ = max|w_row|/127. Row 0: absmax 2.54 -> Δ = 0.02; row 1: 127 -> Δ = 1.
  // Row 0 x/Δ = [127, -50, 0]. Row 1 x/Δ = [-127, 3.5, 0.5] -> [-127, 4, 0]. Codes stay in [-127, 127].
  const auto w = torch::tensor({{2.54f, -1.0f, 0.0f}, {-127.0f, 3.5f, 0.5f}});
  const auto q = fake_quant(w, spec(8, Granularity::per_channel, true), with_codes());
  expect_equal(q.scale, torch::tensor({{0.02}, {1.0}}), 1e-7);
  expect_equal(q.codes, torch::tensor({{127, -50, 0}, {-127, 4, 0}}, torch::kInt));
  expect_equal(q.fake[1], vec({-127.0f, 4.0f, 0.0f}));
}

TEST(FakeQuant, PerGroupFourOnAnEightWideRow) {
  // group 0 [0, 1, 2, 3]: Δ = 3/3 = 1, z = 0, codes [0, 1, 2, 3], exact
  // group 1 [-4, -1, 0, 2]: Δ = 6/3 = 2, z = ⌊4/2⌉ = 2; x/Δ = [-2, -0.5, 0, 1] -> [-2, 0, 0, 1]
  //   -> codes [0, 2, 2, 3]; x̂ = (q-2)·2 = [-4, 0, 0, 2]
  auto s = spec(2, Granularity::per_group);
  s.group_size = 4;
  const auto x = vec({0, 1, 2, 3, -4, -1, 0, 2}).reshape({1, 8});
  const auto q = fake_quant(x, s, with_codes());
  expect_equal(q.scale, torch::tensor({{1.0, 2.0}}));
  expect_equal(q.zero, torch::tensor({{0.0, 2.0}}));
  expect_equal(q.codes, torch::tensor({{0, 1, 2, 3, 0, 2, 2, 3}}, torch::kInt));
  expect_equal(q.fake, vec({0, 1, 2, 3, -4, 0, 0, 2}).reshape({1, 8}));
  expect_equal(dequantize(q.codes, q.scale, q.zero, s), q.fake);
}

TEST(FakeQuant, RaggedLastGroupHasItsOwnRange) {
  // K = 8, G = 3: groups [0, 1, 2], [3, -4, -1], [0, 2] (the last one short). 2 bits, levels 4:
  //   g0: min 0, max 2: Δ = 2/3, z = 0; x/Δ = [0, 1.5, 3] -> codes [0, 2, 3] (1.5 rounds to even 2)
  //   g1: min -4, max 3: Δ = 7/3, z = ⌊4/(7/3)⌉ = ⌊1.714⌉ = 2; x/Δ = [1.286, -1.714, -0.429]
  //       -> ⌊·⌉ + 2 = [3, 0, 2]
  //   g2: min 0, max 2: Δ = 2/3, z = 0; x/Δ = [0, 3] -> codes [0, 3]
  // The padding repeats the row's last element (2), so g2's range stays [0, 2].
  auto s = spec(2, Granularity::per_group);
  s.group_size = 3;
  const auto x = vec({0, 1, 2, 3, -4, -1, 0, 2}).reshape({1, 8});
  const auto q = fake_quant(x, s, with_codes());
  EXPECT_EQ(q.scale.sizes(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(q.codes.sizes(), x.sizes());
  expect_equal(q.codes, torch::tensor({{0, 2, 3, 3, 0, 2, 0, 3}}, torch::kInt));
  expect_equal(q.zero, torch::tensor({{0.0, 2.0, 0.0}}));
  EXPECT_NEAR(q.scale[0][1].item<double>(), 7.0 / 3.0, 1e-6);
  expect_equal(dequantize(q.codes, q.scale, q.zero, s), q.fake);
}

TEST(FakeQuant, PerTokenOnBatchTokensChannels) {
  // x [2, 3, 4], token k = 1..6 (row-major) holds k·[-1, 0.4, 1, 2]: min -k, max 2k, 2 bits plain:
  // Δ = 3k/3 = k, z = ⌊k/k⌉ = 1; x/Δ = [-1, 0.4, 1, 2] -> [-1, 0, 1, 2] -> codes [0, 1, 2, 3]
  // x̂ = k·[-1, 0, 1, 2]
  const auto k = torch::arange(1, 7, torch::kFloat).reshape({2, 3, 1});
  const auto x = k * vec({-1.0f, 0.4f, 1.0f, 2.0f});
  const auto q = fake_quant(x, spec(2, Granularity::per_token), with_codes());
  expect_equal(q.scale, k);
  expect_equal(q.zero, torch::ones({2, 3, 1}));
  expect_equal(q.codes, torch::tensor({0, 1, 2, 3}, torch::kInt).expand({2, 3, 4}));
  expect_equal(q.fake, k * vec({-1.0f, 0.0f, 1.0f, 2.0f}), 1e-5);
}

// [1, 2, 3, 4]: head 0 holds 0..10 and 15; head 1 = 2·head0 - 10, except element 1 set to -7.5.
torch::Tensor two_heads() {
  auto h0 = torch::arange(12, torch::kFloat);
  h0[11] = 15.0f;
  auto h1 = 2 * h0 - 10;
  h1[1] = -7.5f;
  return torch::stack({h0, h1}).reshape({1, 2, 3, 4});
}

TEST(FakeQuant, PerHead) {
  // 4 bits (16 levels). head 0: min 0, max 15 -> Δ = 1, z = 0, exact.
  // head 1: min -10, max 20 -> Δ = 2, z = 5; codes = head-0 values, except -7.5/2 = -3.75 -> -4 -> code 1,
  // x̂ = (1-5)·2 = -8.
  const auto x = two_heads();
  const auto q = fake_quant(x, spec(4, Granularity::per_head), with_codes());
  expect_equal(q.scale, torch::tensor({1.0, 2.0}).reshape({1, 2, 1, 1}));
  expect_equal(q.zero, torch::tensor({0.0, 5.0}).reshape({1, 2, 1, 1}));
  auto expected = x.clone();
  expected[0][1][0][1] = -8.0f;
  expect_equal(q.fake, expected);
  auto codes = x[0][0].flatten().to(torch::kInt);
  codes[1] = 1;
  expect_equal(q.codes[0][1].flatten(), codes);
  EXPECT_THROW(fake_quant(torch::zeros({2, 3, 4}), spec(4, Granularity::per_head)), Error);
}

TEST(FakeQuant, PerTokenOnHeadsIsPerTokenAndHead) {
  // [B, H, T, D] per token: one range per (b, h, t), as ABQ-LLM quantizes Q/K/V.
  // head 0, token 2 = [8, 9, 10, 15]: 2 bits plain, Δ = 7/3, z = ⌊-24/7⌉ = ⌊-3.43⌉ = -3
  // x/Δ = [3.43, 3.86, 4.29, 6.43] -> [3, 4, 4, 6] -> +z [0, 1, 1, 3]; x̂ = (q+3)·7/3 = [7, 28/3, 28/3, 14]
  const auto q = fake_quant(two_heads(), spec(2, Granularity::per_token), with_codes());
  EXPECT_EQ(q.scale.sizes(), torch::IntArrayRef({1, 2, 3, 1}));
  expect_equal(q.codes[0][0][2], torch::tensor({0, 1, 1, 3}, torch::kInt));
  expect_equal(q.fake[0][0][2], torch::tensor({7.0, 28.0 / 3, 28.0 / 3, 14.0}), 1e-5);
}

TEST(FakeQuant, PerChannelWeightRows) {
  // 2 bits plain, one range per row of W [3, 4]:
  // row 0 [0, 1, 2, 3]: Δ = 1, z = 0, exact.  row 1 [-2, 0, 2, 4]: Δ = 2, z = 1, exact.
  // row 2 [-3, -1.5, 0, 3]: Δ = 6/3 = 2, z = ⌊1.5⌉ = 2; x/Δ = [-1.5, -0.75, 0, 1.5] -> [-2, -1, 0, 2]
  //   -> +z [0, 1, 2, 4] -> clamp 3 -> [0, 1, 2, 3]; x̂ = (q-2)·2 = [-4, -2, 0, 2]
  const auto w = torch::tensor({{0.0f, 1.0f, 2.0f, 3.0f}, {-2.0f, 0.0f, 2.0f, 4.0f}, {-3.0f, -1.5f, 0.0f, 3.0f}});
  const auto s = spec(2, Granularity::per_channel);
  const auto q = fake_quant(w, s, with_codes());
  expect_equal(q.scale, torch::tensor({{1.0}, {2.0}, {2.0}}));
  expect_equal(q.zero, torch::tensor({{0.0}, {1.0}, {2.0}}));
  expect_equal(q.codes, torch::tensor({{0, 1, 2, 3}, {0, 1, 2, 3}, {0, 1, 2, 3}}, torch::kInt));
  expect_equal(q.fake, torch::tensor({{0.0f, 1.0f, 2.0f, 3.0f}, {-2.0f, 0.0f, 2.0f, 4.0f}, {-4.0f, -2.0f, 0.0f, 2.0f}}));
  expect_equal(dequantize(q.codes, q.scale, q.zero, s), q.fake);
  EXPECT_THROW(fake_quant(vec({1, 2}), s), Error);  // per_channel needs a matrix
}

TEST(FakeQuant, BitBalanceTwoBitsHasFiveLevels) {
  // x = [-1, -0.5, 0, 0.5, 1]. Bit balance: Δ = 2/2^2 = 0.5, z = 2, codes 0..4, exact.
  // Plain 2-bit: Δ = 2/3, z = ⌊1.5⌉ = 2; x/Δ = [-1.5, -0.75, 0, 0.75, 1.5] -> [-2, -1, 0, 1, 2]
  //   -> +z [0, 1, 2, 3, 4] -> clamp 3; x̂ = (q-2)·2/3 = [-4/3, -2/3, 0, 2/3, 2/3]
  const auto x = vec({-1.0f, -0.5f, 0.0f, 0.5f, 1.0f});
  auto s = spec(2, Granularity::per_tensor);
  s.bit_balance = true;
  const auto balanced = fake_quant(x, s, with_codes());
  EXPECT_DOUBLE_EQ(balanced.scale.item<double>(), 0.5);
  expect_equal(balanced.codes, torch::tensor({0, 1, 2, 3, 4}, torch::kInt));
  expect_equal(balanced.fake, x);

  s.bit_balance = false;
  const auto plain = fake_quant(x, s, with_codes());
  expect_equal(plain.codes, torch::tensor({0, 1, 2, 3, 3}, torch::kInt));
  expect_equal(plain.fake, torch::tensor({-4.0 / 3, -2.0 / 3, 0.0, 2.0 / 3, 2.0 / 3}), 1e-6);
}

TEST(FakeQuant, BitBalanceOneBitHasThreeLevels) {
  // x = [-1, -0.25, 0.25, 1]. Bit balance 1 bit: Δ = 2/2 = 1, z = 1; x/Δ -> [-1, 0, 0, 1] -> codes [0, 1, 1, 2]
  // x̂ = [-1, 0, 0, 1]. Plain 1 bit (2 levels): Δ = 2/1 = 2, z = ⌊0.5⌉ = 0;
  // x/Δ = [-0.5, -0.125, 0.125, 0.5] -> all 0 -> x̂ all 0.
  const auto x = vec({-1.0f, -0.25f, 0.25f, 1.0f});
  auto s = spec(1, Granularity::per_tensor);
  s.bit_balance = true;
  const auto balanced = fake_quant(x, s, with_codes());
  expect_equal(balanced.codes, torch::tensor({0, 1, 1, 2}, torch::kInt));
  expect_equal(balanced.fake, vec({-1.0f, 0.0f, 0.0f, 1.0f}));
  s.bit_balance = false;
  const auto plain = fake_quant(x, s, with_codes());
  EXPECT_DOUBLE_EQ(plain.scale.item<double>(), 2.0);
  expect_equal(plain.codes, torch::zeros({4}, torch::kInt));
  expect_equal(plain.fake, torch::zeros({4}));
}

TEST(FakeQuant, SymmetricOneBitIsRejected) {
  try {
    fake_quant(vec({1.0f, -1.0f}), spec(1, Granularity::per_tensor, true));
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.message()).find("symmetric quantization needs at least 2 bits"), std::string::npos);
  }
}

TEST(FakeQuant, ClipRatioScalesMinAndMax) {
  // x = [-2, 0, 1, 4], 2 bits plain, clip 0.75: m⁻ = -1.5, m⁺ = 3, Δ = 4.5/3 = 1.5, z = ⌊1⌉ = 1
  // x/Δ = [-1.33, 0, 0.67, 2.67] -> [-1, 0, 1, 3] -> +z [0, 1, 2, 4] -> clamp 3; x̂ = (q-1)·1.5 = [-1.5, 0, 1.5, 3]
  auto s = spec(2, Granularity::per_tensor);
  s.clip_ratio = 0.75;
  const auto q = fake_quant(vec({-2.0f, 0.0f, 1.0f, 4.0f}), s, with_codes());
  EXPECT_DOUBLE_EQ(q.scale.item<double>(), 1.5);
  EXPECT_DOUBLE_EQ(q.zero.item<double>(), 1.0);
  expect_equal(q.codes, torch::tensor({0, 1, 2, 3}, torch::kInt));
  expect_equal(q.fake, vec({-1.5f, 0.0f, 1.5f, 3.0f}));
}

TEST(FakeQuant, SixteenBitsIsIdentity) {
  const auto x = torch::randn({3, 5});
  QuantSpec s;  // bits = 16
  const auto q = fake_quant(x, s, with_codes());
  EXPECT_TRUE(q.fake.is_same(x));
  EXPECT_FALSE(q.codes.defined());
  EXPECT_FALSE(q.scale.defined());
  s.bits = 32;
  EXPECT_TRUE(fake_quant(x, s).fake.is_same(x));
}

TEST(FakeQuant, RoundHalfToEven) {
  // Fixed grid Δ = 1, z = 0, symmetric 8 bit: codes are ⌊x⌉ with ties to even.
  // 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2, 3.5 -> 4, -2.5 -> -2
  const auto x = vec({0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 3.5f, -2.5f});
  const QuantParams p{torch::tensor(1.0), torch::tensor(0.0)};
  const auto q = fake_quant_with_params(x, p, spec(8, Granularity::per_tensor, true), with_codes());
  expect_equal(q.codes, torch::tensor({0, 2, 2, 0, -2, 4, -2}, torch::kInt));
  expect_equal(q.fake, vec({0.0f, 2.0f, 2.0f, 0.0f, -2.0f, 4.0f, -2.0f}));
}

TEST(FakeQuant, SteGradientIsOneInsideTheClampAndZeroOutside) {
  // Fixed Δ = 1, z = 1, 2 bits plain (q in [0, 3]): x/Δ + z = [-2, 0.6, 1.6, 2.2, 2.7, 6], rounded
  // (STE) [-2, 1, 2, 2, 3, 6]. The first and last are clamped; the fifth lands exactly on q_max = 3,
  // where PyTorch 2.x's clamp backward passes no gradient either (the reference clamps after
  // round_ste), so d(Σx̂)/dx = [0, 1, 1, 1, 0, 0].
  const auto x = vec({-3.0f, -0.4f, 0.6f, 1.2f, 1.7f, 5.0f}).requires_grad_(true);
  const QuantParams p{torch::tensor(1.0f), torch::tensor(1.0f)};
  fake_quant_with_params(x, p, spec(2, Granularity::per_tensor)).fake.sum().backward();
  expect_equal(x.grad(), vec({0.0f, 1.0f, 1.0f, 1.0f, 0.0f, 0.0f}));
}

TEST(FakeQuant, SteGradientOfScaleAndZero) {
  // 4 bits, Δ = 1, z = 0, x = [1.3, 20] (q = 1 inside, 20 clamped to 15).
  // dx̂/dΔ = ⌊x/Δ⌉ - x/Δ = -0.3 inside; (q - z) = 15 where clamped.
  // dx̂/dz = 0 inside (z cancels), -Δ = -1 where clamped.
  const auto scale = torch::tensor(1.0f).requires_grad_(true);
  const auto zero = torch::tensor(0.0f).requires_grad_(true);
  fake_quant_with_params(vec({1.3f, 20.0f}), {scale, zero}, spec(4, Granularity::per_tensor)).fake.sum().backward();
  EXPECT_NEAR(scale.grad().item<double>(), -0.3 + 15.0, 1e-5);
  EXPECT_NEAR(zero.grad().item<double>(), -1.0, 1e-6);
}

TEST(FakeQuant, RangeGradientWithAndWithoutZeroPointSte) {
  // Range m⁻ = -1, m⁺ = 2, 2 bits plain: Δ = 3/3 = 1, z = 1. x = [0.2, 5]: q = [1, 6 -> 3].
  // dΣx̂/dΔ = (0 - 0.2) + (3 - 1) = 1.8; dΔ/dm⁺ = 1/3, dΔ/dm⁻ = -1/3.
  // Reference (z detached): grad m⁺ = 0.6, grad m⁻ = -0.6.
  // STE z: dΣx̂/dz = -Δ = -1 (clamped element only); z = -m⁻/Δ: dz/dm⁻ = -1/Δ + (m⁻/Δ²)(-1/3) = -2/3,
  //   dz/dm⁺ = (m⁻/Δ²)(1/3) = -1/3 -> grad m⁺ = 0.6 + 1/3, grad m⁻ = -0.6 + 2/3.
  const auto x = vec({0.2f, 5.0f});
  const auto s = spec(2, Granularity::per_tensor);
  for (bool ste : {false, true}) {
    const auto lo = torch::tensor(-1.0f).requires_grad_(true);
    const auto hi = torch::tensor(2.0f).requires_grad_(true);
    FakeQuantOptions o;
    o.ste_zero_point = ste;
    const auto params = params_from_range({lo, hi}, s, o);
    EXPECT_EQ(params.zero.requires_grad(), ste);
    fake_quant_with_params(x, params, s, o).fake.sum().backward();
    EXPECT_NEAR(hi.grad().item<double>(), ste ? 0.6 + 1.0 / 3 : 0.6, 1e-5) << "ste_zero_point " << ste;
    EXPECT_NEAR(lo.grad().item<double>(), ste ? -0.6 + 2.0 / 3 : -0.6, 1e-5) << "ste_zero_point " << ste;
  }
}

TEST(FakeQuant, HalfPrecisionInputKeepsItsDtype) {
  // x = [-1, -0.25, 0.375, 2.5] (exact in bfloat16 and float16), 3 bits: Δ = 0.5, z = 2
  // x/Δ = [-2, -0.5, 0.75, 5] -> [-2, 0, 1, 5]; x̂ = [-1, 0, 0.5, 2.5]
  for (auto dtype : {torch::kBFloat16, torch::kHalf}) {
    const auto x = vec({-1.0f, -0.25f, 0.375f, 2.5f}).reshape({1, 4}).to(dtype);
    const auto q = fake_quant(x, spec(3, Granularity::per_token));
    EXPECT_EQ(q.fake.scalar_type(), dtype);
    EXPECT_EQ(q.scale.scalar_type(), torch::kFloat);
    expect_equal(q.fake, vec({-1.0f, 0.0f, 0.5f, 2.5f}).reshape({1, 4}));
  }
}

// ---- independent reference: plain loops over a row-major [rows, cols] float buffer.
struct LoopResult {
  std::vector<float> fake;
  std::vector<int> codes;
};

LoopResult loop_per_group_asymmetric(const std::vector<float>& w, int64_t rows, int64_t cols, int64_t group,
                                     int64_t levels) {
  LoopResult out{std::vector<float>(w.size()), std::vector<int>(w.size())};
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g0 = 0; g0 < cols; g0 += group) {
      const float* x = &w[r * cols + g0];
      float lo = x[0], hi = x[0];
      for (int64_t j = 1; j < group; ++j) {
        lo = std::min(lo, x[j]);
        hi = std::max(hi, x[j]);
      }
      float delta = (hi - lo) / float(levels - 1);
      delta = std::min(std::max(delta, 1e-5f), 1e4f);
      const float z = std::nearbyint(std::min(std::max(-lo / delta, -1e4f), 1e4f));  // half to even
      for (int64_t j = 0; j < group; ++j) {
        float q = std::nearbyint(x[j] / delta) + z;
        q = std::min(std::max(q, 0.0f), float(levels - 1));
        out.codes[r * cols + g0 + j] = int(q);
        out.fake[r * cols + g0 + j] = (q - z) * delta;
      }
    }
  }
  return out;
}

TEST(FakeQuant, PerGroupMatchesPlainLoopReference) {
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t rows = 16, cols = 96;
  std::vector<float> w(rows * cols);
  for (auto& v : w) v = normal(rng) + (&v - w.data()) % 7 * 0.1f;  // uneven offsets per column
  const auto weight = torch::from_blob(w.data(), {rows, cols}, torch::kFloat).clone();

  for (int bits : {1, 2, 3, 4, 8}) {
    for (int64_t group : {16, 32, 96}) {
      for (bool balance : {false, true}) {
        auto s = spec(bits, Granularity::per_group);
        s.group_size = group;
        s.bit_balance = balance;
        const auto ref = loop_per_group_asymmetric(w, rows, cols, group, s.levels());
        const auto q = fake_quant(weight, s, with_codes());
        const auto codes = torch::from_blob(const_cast<int*>(ref.codes.data()), {rows, cols}, torch::kInt);
        const auto fake = torch::from_blob(const_cast<float*>(ref.fake.data()), {rows, cols}, torch::kFloat);
        EXPECT_TRUE(torch::equal(q.codes, codes)) << "bits " << bits << " group " << group << " balance " << balance;
        EXPECT_TRUE(torch::allclose(q.fake, fake, 0.0, 1e-6))
            << "bits " << bits << " group " << group << " balance " << balance;
      }
    }
  }
}

}  // namespace
}  // namespace abq::quant

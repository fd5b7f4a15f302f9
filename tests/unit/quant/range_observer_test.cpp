// RangeObserver (static ranges): expected ranges are the elementwise min/max of the hand-written
// batches; Δ, z, codes and x̂ are computed by hand from the asymmetric formula (ABQ-LLM quantizer.py).
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/quant/fake_quant.h"

namespace abq::quant {
namespace {

QuantSpec static_spec(int bits, Granularity g) {
  QuantSpec s;
  s.bits = bits;
  s.granularity = g;
  s.dynamic = false;
  return s;
}

void expect_equal(const torch::Tensor& actual, const torch::Tensor& expected, double tol = 1e-6) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(actual.to(torch::kDouble), expected.to(torch::kDouble), 0.0, tol))
      << "actual\n" << actual << "\nexpected\n" << expected;
}

TEST(RangeObserver, StaticPerTensorDiffersFromDynamic) {
  // Batches [0, 1, 2, 3] and [-3, 0, 0, 0]: static range [-3, 3]; 2 bits plain: Δ = 6/3 = 2, z = ⌊1.5⌉ = 2.
  // Batch 1 statically: x/Δ = [0, 0.5, 1, 1.5] -> [0, 0, 1, 2] -> +z [2, 2, 3, 4] -> clamp 3; x̂ = [0, 0, 2, 2].
  // Batch 1 dynamically: Δ = 1, z = 0 -> exact.
  const auto b1 = torch::tensor({0.0f, 1.0f, 2.0f, 3.0f});
  const auto b2 = torch::tensor({-3.0f, 0.0f, 0.0f, 0.0f});
  RangeObserver obs(static_spec(2, Granularity::per_tensor));
  EXPECT_FALSE(obs.has_range());
  obs.observe(b1);
  obs.observe(b2);
  EXPECT_EQ(obs.batches(), 2);
  EXPECT_DOUBLE_EQ(obs.range().min.item<double>(), -3.0);
  EXPECT_DOUBLE_EQ(obs.range().max.item<double>(), 3.0);
  FakeQuantOptions o;
  o.with_codes = true;
  const auto st = obs.quantize(b1, o);
  EXPECT_DOUBLE_EQ(st.scale.item<double>(), 2.0);
  EXPECT_DOUBLE_EQ(st.zero.item<double>(), 2.0);
  expect_equal(st.codes, torch::tensor({2, 2, 3, 3}, torch::kInt));
  expect_equal(st.fake, torch::tensor({0.0f, 0.0f, 2.0f, 2.0f}));
  expect_equal(fake_quant(b1, static_spec(2, Granularity::per_tensor)).fake, b1);
}

TEST(RangeObserver, StaticPerChannelIsPerLastDimChannel) {
  // Batches [[0, -1, 5], [3, 1, 2]] and [[-3, 0, 4]] (tokens x C=3): min [-3, -1, 2], max [3, 1, 5].
  // Quantize [[1, 0.5, 3]], 2 bits plain:
  //   ch0: Δ = 2, z = ⌊1.5⌉ = 2; 1/2 = 0.5 -> 0 -> code 2, x̂ 0
  //   ch1: Δ = 2/3, z = ⌊1.5⌉ = 2; 0.5/(2/3) = 0.75 -> 1 -> code 3, x̂ 2/3
  //   ch2: Δ = 1, z = ⌊-2⌉ = -2; 3 -> 3 - 2 = 1 -> code 1, x̂ (1 + 2)·1 = 3
  RangeObserver obs(static_spec(2, Granularity::per_channel));
  obs.observe(torch::tensor({{0.0f, -1.0f, 5.0f}, {3.0f, 1.0f, 2.0f}}));
  obs.observe(torch::tensor({{-3.0f, 0.0f, 4.0f}}).reshape({1, 1, 3}));  // any leading shape
  expect_equal(obs.range().min, torch::tensor({-3.0, -1.0, 2.0}));
  expect_equal(obs.range().max, torch::tensor({3.0, 1.0, 5.0}));
  FakeQuantOptions o;
  o.with_codes = true;
  const auto q = obs.quantize(torch::tensor({{1.0f, 0.5f, 3.0f}}), o);
  expect_equal(q.codes, torch::tensor({{2, 3, 1}}, torch::kInt));
  expect_equal(q.fake, torch::tensor({{0.0, 2.0 / 3, 3.0}}), 1e-6);
  try {
    obs.observe(torch::zeros({2, 4}));
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(),
              "RangeObserver (per_channel): batch of shape [2, 4] gives ranges of shape [4] but earlier batches "
              "gave [3]");
  }
}

TEST(RangeObserver, StaticPerHeadSpansBatchesAndTokens) {
  // Batch 1 [1, 2, 1, 2]: head 0 in [0, 1], head 1 in [-2, 1.75]. Batch 2 [2, 2, 1, 2]: head 0 reaches 3.
  // Ranges: head 0 [0, 3], head 1 [-2, 1.75]; shape [1, 2, 1, 1].
  RangeObserver obs(static_spec(4, Granularity::per_head));
  obs.observe(torch::tensor({0.0f, 1.0f, -2.0f, 1.75f}).reshape({1, 2, 1, 2}));
  obs.observe(torch::tensor({3.0f, 0.5f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f}).reshape({2, 2, 1, 2}));
  expect_equal(obs.range().min, torch::tensor({0.0, -2.0}).reshape({1, 2, 1, 1}));
  expect_equal(obs.range().max, torch::tensor({3.0, 1.75}).reshape({1, 2, 1, 1}));
  // 4 bits: head 0 Δ = 3/15 = 0.2, z = 0; head 1 Δ = 3.75/15 = 0.25, z = 8.
  const auto q = obs.quantize(torch::zeros({3, 2, 5, 2}));
  expect_equal(q.scale, torch::tensor({0.2, 0.25}).reshape({1, 2, 1, 1}), 1e-6);
  expect_equal(q.zero, torch::tensor({0.0, 8.0}).reshape({1, 2, 1, 1}));
  EXPECT_EQ(q.fake.sizes(), torch::IntArrayRef({3, 2, 5, 2}));
}

TEST(RangeObserver, Errors) {
  EXPECT_THROW(RangeObserver(static_spec(8, Granularity::per_token)), Error);
  EXPECT_THROW(RangeObserver(static_spec(8, Granularity::per_group)), Error);
  RangeObserver obs(static_spec(8, Granularity::per_tensor));
  try {
    obs.quantize(torch::ones({2}));
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "RangeObserver (8pt-static): no calibration batch observed yet; call observe() first");
  }
  obs.observe(torch::ones({2}));
  obs.reset();
  EXPECT_FALSE(obs.has_range());
}

}  // namespace
}  // namespace abq::quant

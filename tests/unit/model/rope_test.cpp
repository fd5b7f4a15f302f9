// Expected values: θ_i = base^(−2i/D) and the rotate_half rotation from reference_loops.h (RoFormer,
// HF convention); llama3 scaled frequencies hand-computed from the published Llama-3.1 formula
// (HF _compute_llama3_parameters) for D = 8, base 500000, factor 8, low 1, high 4, original 8192:
//   i=0: θ=1,           wavelen 6.283   < 2048          -> kept, 1
//   i=1: θ=0.0376060309, wavelen 167.08 < 2048          -> kept
//   i=2: θ=0.00141421356, wavelen 4442.88 in [2048, 8192]: smooth = (8192/4442.88 − 1)/3 = 0.2812826
//        -> (1 − 0.2812826)·θ/8 + 0.2812826·θ = 5.2484616e-4
//   i=3: θ=5.3182959e-5, wavelen 118142.8 > 8192        -> θ/8 = 6.6478699e-6
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/model/rope.h"
#include "tests/unit/model/reference_loops.h"

namespace abq::model {
namespace {

TEST(Rope, DefaultFrequenciesFollowFormula) {
  auto f = rope_inv_freq(8, 10000.0, RopeScaling{});
  ASSERT_EQ(f.size(), 4u);
  EXPECT_DOUBLE_EQ(f[0], 1.0);
  EXPECT_NEAR(f[1], 0.1, 1e-15);    // 10000^(-2/8)
  EXPECT_NEAR(f[2], 0.01, 1e-15);   // 10000^(-4/8)
  EXPECT_NEAR(f[3], 0.001, 1e-15);  // 10000^(-6/8)
}

TEST(Rope, Llama3ScalingMatchesHandComputedValues) {
  RopeScaling s;
  s.type = "llama3";
  s.factor = 8.0;
  s.low_freq_factor = 1.0;
  s.high_freq_factor = 4.0;
  s.original_max_position = 8192;
  auto f = rope_inv_freq(8, 500000.0, s);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_NEAR(f[0], 1.0, 1e-12);
  EXPECT_NEAR(f[1], 0.0376060309, 1e-10);
  EXPECT_NEAR(f[2] / 5.2484616e-4, 1.0, 1e-6);
  EXPECT_NEAR(f[3] / 6.6478699e-6, 1.0, 1e-6);
}

TEST(Rope, LinearScalingDividesFrequencies) {
  RopeScaling s;
  s.type = "linear";
  s.factor = 4.0;
  auto f = rope_inv_freq(4, 10000.0, s);
  EXPECT_NEAR(f[0], 0.25, 1e-15);
  EXPECT_NEAR(f[1], 0.01 / 4, 1e-15);
}

// llama.cpp's rope_freqs (freq_factors): θ_i ÷ d_i, here on the default θ_i = 10000^(−2i/8) =
// 1, 0.1, 0.01, 0.001 with d = 1, 2, 4, 8 -> 1, 0.05, 0.0025, 0.000125.
TEST(Rope, FrequencyDivisorsDivideEachFrequency) {
  RopeScaling s;
  s.freq_divisors = {1, 2, 4, 8};
  auto f = rope_inv_freq(8, 10000.0, s);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_NEAR(f[0], 1.0, 1e-15);
  EXPECT_NEAR(f[1], 0.05, 1e-15);
  EXPECT_NEAR(f[2], 0.0025, 1e-15);
  EXPECT_NEAR(f[3], 0.000125, 1e-15);
  s.freq_divisors = {1, 2};
  try {
    rope_inv_freq(8, 10000.0, s);
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "rope: 2 per-frequency divisors (rope_freqs) for head_dim 8; expected head_dim / 2 = 4");
  }
  s.freq_divisors = {1, 0, 1, 1};
  EXPECT_THROW(rope_inv_freq(8, 10000.0, s), Error);
}

TEST(Rope, UnknownScalingTypeIsAnError) {
  RopeScaling s;
  s.type = "yarn";
  try {
    rope_inv_freq(8, 10000.0, s);
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "unsupported rope_scaling type 'yarn'; allowed: none, linear, llama3");
  }
}

TEST(Rope, ApplyMatchesLoopReference) {
  const int64_t B = 2, heads = 3, T = 5, D = 8;
  torch::manual_seed(3);
  auto x = torch::randn({B, heads, T, D}, torch::kFloat64);
  auto inv = rope_inv_freq(D, 10000.0, RopeScaling{});
  RopeCache cache(inv);
  auto y = apply_rope(x, cache.get(T, torch::kCPU, torch::kFloat64));
  for (int64_t b = 0; b < B; ++b) {
    auto want = reference::rope(reference::to_vec(x[b]), reference::default_inv_freq(D, 10000.0), heads, T, D);
    auto got = reference::to_vec(y[b]);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << "b=" << b << " i=" << i;
  }
  // Position 0 is the identity rotation.
  EXPECT_TRUE(torch::allclose(y.select(2, 0), x.select(2, 0)));
}

TEST(Rope, CacheReturnsSameTablePerKey) {
  RopeCache cache(rope_inv_freq(8, 10000.0, RopeScaling{}));
  auto a = cache.get(7, torch::kCPU, torch::kFloat32);
  auto b = cache.get(7, torch::kCPU, torch::kFloat32);
  auto c = cache.get(7, torch::kCPU, torch::kFloat64);
  EXPECT_TRUE(a.cos.is_same(b.cos));
  EXPECT_FALSE(a.cos.is_same(c.cos));
  EXPECT_EQ(a.cos.sizes(), (std::vector<int64_t>{7, 8}));
  EXPECT_EQ(c.sin.scalar_type(), torch::kFloat64);
}

}  // namespace
}  // namespace abq::model

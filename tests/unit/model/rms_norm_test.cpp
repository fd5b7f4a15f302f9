// Expected values: the plain-loop RMSNorm of reference_loops.h, written from the published formula
// y = x / sqrt(mean(x²) + eps) · w (Zhang & Sennrich 2019, as in LLaMA).
#include <gtest/gtest.h>

#include "framework/model/rms_norm.h"
#include "tests/unit/model/reference_loops.h"

namespace abq::model {
namespace {

TEST(RmsNorm, MatchesLoopReferenceFp64) {
  torch::manual_seed(1);
  auto x = torch::randn({2, 3, 8}, torch::kFloat64) * 3.0;
  auto w = torch::randn({8}, torch::kFloat64);
  auto got = reference::to_vec(rms_norm(x, w, 1e-6));
  auto want = reference::rms_norm(reference::to_vec(x), reference::to_vec(w), 6, 8, 1e-6);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << i;
}

TEST(RmsNorm, Fp32AndLargeEpsilon) {
  torch::manual_seed(2);
  // eps comparable to mean(x²) so a wrong placement of eps (outside the sqrt, or missing) shows.
  auto x = torch::randn({5, 4}, torch::kFloat32) * 0.1;
  auto w = torch::rand({4}, torch::kFloat32) + 0.5;
  auto got = reference::to_vec(rms_norm(x, w, 1e-2));
  auto want = reference::rms_norm(reference::to_vec(x), reference::to_vec(w), 5, 4, 1e-2);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
  EXPECT_EQ(rms_norm(x, w, 1e-2).scalar_type(), torch::kFloat32);
}

TEST(RmsNorm, HalfInputKeepsDtype) {
  auto x = torch::randn({3, 16}).to(torch::kBFloat16);
  auto w = torch::ones({16}, torch::kBFloat16);
  auto y = rms_norm(x, w, 1e-6);
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  auto want = reference::rms_norm(reference::to_vec(x), reference::to_vec(w), 3, 16, 1e-6);
  auto got = reference::to_vec(y);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 2e-2 * (1 + std::abs(want[i])));
}

}  // namespace
}  // namespace abq::model

// Expected values: the plain-loop SwiGLU of reference_loops.h, down(silu(gate(x)) · up(x)) with
// silu(z) = z / (1 + e^−z) (Shazeer 2020, as in LLaMA).
#include <gtest/gtest.h>

#include "framework/model/mlp.h"
#include "tests/unit/model/reference_loops.h"

namespace abq::model {
namespace {

using reference::to_vec;

TEST(Mlp, SwiGluMatchesLoopReference) {
  const int64_t B = 2, T = 3, C = 8, F = 12;
  torch::manual_seed(7);
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  Linear gate{torch::randn({F, C}, opts) * 0.5, {}};
  Linear up{torch::randn({F, C}, opts) * 0.5, {}};
  Linear down{torch::randn({C, F}, opts) * 0.5, {}};
  auto x = torch::randn({B, T, C}, opts);
  auto got = to_vec(mlp_forward(x, gate, up, down));
  auto want = reference::swiglu(to_vec(x), to_vec(gate.weight), to_vec(up.weight), to_vec(down.weight), B * T, C, F);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << i;
}

TEST(Mlp, HooksSeeEachInput) {
  const int64_t C = 4, F = 6;
  Linear gate{torch::randn({F, C}), {}}, up{torch::randn({F, C}), {}}, down{torch::randn({C, F}), {}};
  LayerHooks hooks;
  std::vector<int64_t> seen;
  for (SiteKind kind : {SiteKind::gate_proj_input, SiteKind::up_proj_input, SiteKind::down_proj_input}) {
    hooks.at[static_cast<size_t>(kind)] = [&seen](const torch::Tensor& t) {
      seen.push_back(t.size(-1));
      return t;
    };
  }
  auto x = torch::randn({1, 2, C});
  auto y = mlp_forward(x, gate, up, down, &hooks);
  EXPECT_EQ(seen, (std::vector<int64_t>{C, C, F}));
  EXPECT_TRUE(torch::allclose(y, mlp_forward(x, gate, up, down)));
}

}  // namespace
}  // namespace abq::model

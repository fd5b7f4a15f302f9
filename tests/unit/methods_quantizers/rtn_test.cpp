// RtnQuantizer: on a weight it must give exactly quant::fake_quant's result (the RTN baseline is the
// quantizer grid with no search); the small case's values are computed by hand (per-group, 2 bits).
#include "framework/methods/quantizers/rtn.h"

#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/quant/fake_quant.h"

namespace abq::methods {
namespace {

TEST(Rtn, MatchesFakeQuantOnAWeight) {
  torch::manual_seed(7);
  const auto w = torch::randn({8, 64});
  RtnQuantizer rtn;
  EXPECT_EQ(rtn.name(), "rtn");
  for (auto g : {quant::Granularity::per_channel, quant::Granularity::per_group, quant::Granularity::per_tensor}) {
    quant::QuantSpec spec;
    spec.bits = 3;
    spec.granularity = g;
    spec.group_size = 16;
    const auto r = rtn.quantize(w, spec, {"layers.0.mlp.down_proj.weight", {}});
    quant::FakeQuantOptions o;
    o.with_codes = true;
    const auto ref = quant::fake_quant(w, spec, o);
    EXPECT_TRUE(torch::equal(r.fake_weight, ref.fake)) << quant::to_string(g);
    EXPECT_TRUE(torch::equal(r.codes, ref.codes)) << quant::to_string(g);
    EXPECT_TRUE(torch::equal(r.scale, ref.scale)) << quant::to_string(g);
    EXPECT_TRUE(torch::equal(r.zero, ref.zero)) << quant::to_string(g);
    EXPECT_TRUE(torch::allclose(quant::dequantize(r.codes, r.scale, r.zero, spec), r.fake_weight, 0.0, 1e-6));
  }
}

TEST(Rtn, HandComputedGroups) {
  // W [2, 4], g = 2, 2 bits plain. Groups: [0, 3] Δ=1 z=0 exact; [-1, 2] Δ=1 z=1 exact;
  // [0.5, 2] Δ=0.5 z=⌊-1⌉=-1: x/Δ = [1, 4] -> +z [0, 3]; x̂ = [0.5, 2]; [-3, 0] Δ=1 z=3: codes [0, 3].
  const auto w = torch::tensor({{0.0f, 3.0f, -1.0f, 2.0f}, {0.5f, 2.0f, -3.0f, 0.0f}});
  quant::QuantSpec spec;
  spec.bits = 2;
  spec.granularity = quant::Granularity::per_group;
  spec.group_size = 2;
  const auto r = RtnQuantizer().quantize(w, spec, {});
  EXPECT_TRUE(torch::equal(r.codes, torch::tensor({{0, 3, 0, 3}, {0, 3, 0, 3}}, torch::kInt)));
  EXPECT_TRUE(torch::allclose(r.scale, torch::tensor({{1.0f, 1.0f}, {0.5f, 1.0f}})));
  EXPECT_TRUE(torch::allclose(r.zero, torch::tensor({{0.0f, 1.0f}, {-1.0f, 3.0f}})));
  EXPECT_TRUE(torch::allclose(r.fake_weight, w));
}

TEST(Rtn, ErrorsNameTheSite) {
  quant::QuantSpec spec;
  spec.bits = 4;
  spec.granularity = quant::Granularity::per_token;
  try {
    RtnQuantizer().quantize(torch::zeros({4, 4}), spec, {"layers.3.self_attn.q_proj.weight", {}});
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "while quantizing layers.3.self_attn.q_proj.weight with rtn (w4t)\n"
              "  weight granularity must be per_tensor, per_channel or per_group; got per_token");
  }
  EXPECT_THROW(RtnQuantizer().quantize(torch::zeros({8}), quant::QuantSpec{}, {}), Error);
}

TEST(Rtn, DisabledSpecReturnsTheWeight) {
  const auto w = torch::randn({3, 4});
  const auto r = RtnQuantizer().quantize(w, quant::QuantSpec{}, {});
  EXPECT_TRUE(r.fake_weight.is_same(w));
  EXPECT_FALSE(r.codes.defined());
}

}  // namespace
}  // namespace abq::methods

// Expected values: tests/fixtures/calib/awq_clip_cases.json, written by
// tools/fixtures/calib_awq_clip_reference.py, a torch float64 re-implementation of llm-awq's
// auto_clip_layer + pseudo_quantize_tensor that scores each ratio on the inputs X themselves (the
// C++ scores through H = 2/N·XᵀX). The other tests check properties that follow from the
// definition: q/k are plain round-to-nearest, and per channel the clipped layer-output error
// tr(ΔW H ΔWᵀ) never exceeds round-to-nearest's row by row (r = 1 is a candidate).
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "framework/core/error.h"
#include "framework/methods/quantizers/awq_clip.h"
#include "framework/quant/fake_quant.h"

namespace abq::methods {
namespace {

using nlohmann::json;

torch::Tensor matrix(const json& rows) {
  const int64_t r = int64_t(rows.size()), c = int64_t(rows[0].size());
  auto t = torch::empty({r, c}, torch::kFloat64);
  auto a = t.accessor<double, 2>();
  for (int64_t i = 0; i < r; ++i)
    for (int64_t j = 0; j < c; ++j) a[i][j] = rows[size_t(i)][size_t(j)].get<double>();
  return t;
}

quant::QuantSpec weight_spec(int bits, int64_t group_size) {
  quant::QuantSpec spec;
  spec.bits = bits;
  spec.granularity = group_size > 0 ? quant::Granularity::per_group : quant::Granularity::per_channel;
  spec.group_size = group_size;
  return spec;
}

// 2/N·XᵀX with N = 1 window, the scale of calib/hessian.h.
torch::Tensor hessian_of(const torch::Tensor& x) { return 2.0 * x.t().matmul(x); }

TEST(AwqClip, MatchesReferenceImplementation) {
  std::ifstream in(std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/calib/awq_clip_cases.json");
  ASSERT_TRUE(in.good()) << "missing fixture; run tools/fixtures/calib_awq_clip_reference.py";
  const json doc = json::parse(in);
  AwqClipOptions options;
  options.n_grid = doc["n_grid"].get<int64_t>();
  options.max_shrink = doc["max_shrink"].get<double>();
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto w = matrix(c["w"]);
    const auto spec = weight_spec(c["bits"].get<int>(), c["group_size"].get<int64_t>());
    const auto r = awq_clip_quantize(w, hessian_of(matrix(c["x"])), spec, options);
    EXPECT_TRUE(torch::equal(r.ratios, matrix(c["ratios"]))) << r.ratios << "\nexpected\n" << matrix(c["ratios"]);
    EXPECT_TRUE(torch::allclose(r.max_val, matrix(c["max_val"]), 0, 1e-12));
    EXPECT_LE((r.quant.fake_weight - matrix(c["fake"])).abs().max().item<double>(), 1e-5);
    // The codes dequantize to the fake weight (fake_quant's layout).
    EXPECT_TRUE(torch::allclose(quant::dequantize(r.quant.codes, r.quant.scale, r.quant.zero, spec),
                                r.quant.fake_weight, 0, 1e-12));
    // Some groups are clipped, some are not: the fixture exercises the search.
    EXPECT_TRUE((r.ratios < 1).any().item<bool>());
    EXPECT_TRUE((r.ratios == 1).any().item<bool>());
  }
}

TEST(AwqClip, Float32GivesTheSameRatios) {
  std::ifstream in(std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/calib/awq_clip_cases.json");
  ASSERT_TRUE(in.good());
  const json doc = json::parse(in);
  const auto& c = doc["cases"][0];
  const auto w = matrix(c["w"]).to(torch::kFloat32);
  const auto h = hessian_of(matrix(c["x"])).to(torch::kFloat32);
  const auto r = awq_clip_quantize(w, h, weight_spec(c["bits"].get<int>(), c["group_size"].get<int64_t>()), {});
  EXPECT_EQ(r.quant.fake_weight.scalar_type(), torch::kFloat32);
  // The fixture's smallest relative margin between best and runner-up is 7e-4, far above float32 round-off.
  EXPECT_TRUE(torch::equal(r.ratios, matrix(c["ratios"])));
  EXPECT_LE((r.quant.fake_weight.to(torch::kFloat64) - matrix(c["fake"])).abs().max().item<double>(), 1e-5);
}

TEST(AwqClip, QueryAndKeyAreRoundedToNearestWithoutHessian) {
  torch::manual_seed(3);
  const auto w = torch::randn({8, 32});
  const auto spec = weight_spec(4, 16);
  AwqClipQuantizer quantizer;
  for (const char* site : {"layers.2.self_attn.q_proj.weight", "layers.2.self_attn.k_proj.weight"}) {
    SCOPED_TRACE(site);
    WeightContext ctx;
    ctx.site = site;
    const auto r = quantizer.quantize(w, spec, ctx);
    EXPECT_TRUE(torch::equal(r.fake_weight, quant::fake_quant(w, spec).fake));
    EXPECT_FALSE(quantizer.last_ratios().defined());
  }
  WeightContext v;
  v.site = "layers.2.self_attn.v_proj.weight";
  try {
    quantizer.quantize(w, spec, v);
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "awq_clip needs the Hessian of the layer inputs (run it inside block-wise calibration)");
    EXPECT_EQ(e.context().at(0), "while quantizing layers.2.self_attn.v_proj.weight with awq_clip (w4g16)");
  }
}

TEST(AwqClip, PerChannelNeverWorseThanRoundToNearestRowByRow) {
  torch::manual_seed(4);
  auto w = torch::randn({16, 32}, torch::kFloat64);
  w.index_put_({torch::indexing::Slice(), 3}, w.index({torch::indexing::Slice(), 3}) * 8);  // a loud column
  const auto x = torch::randn({128, 32}, torch::kFloat64) * torch::linspace(0.1, 2.0, 32, torch::kFloat64);
  const auto h = hessian_of(x);
  const auto spec = weight_spec(3, 0);
  AwqClipQuantizer quantizer;
  WeightContext ctx;
  ctx.site = "layers.0.mlp.down_proj.weight";
  ctx.hessian = h;
  const auto clipped = quantizer.quantize(w, spec, ctx).fake_weight - w;
  const auto rtn = quant::fake_quant(w, spec).fake - w;
  const auto row_err = [&](const torch::Tensor& d) { return (d.matmul(h) * d).sum(1); };  // [O]
  EXPECT_TRUE((row_err(clipped) <= row_err(rtn) * (1 + 1e-12)).all().item<bool>());
  EXPECT_LT(row_err(clipped).sum().item<double>(), row_err(rtn).sum().item<double>());
  EXPECT_TRUE((quantizer.last_ratios() < 1).any().item<bool>());
}

TEST(AwqClip, RejectsSpecsItCannotSearch) {
  const auto w = torch::randn({4, 24});
  const auto h = torch::eye(24);
  auto spec = weight_spec(4, 16);
  try {
    awq_clip_quantize(w, h, spec, {});
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "awq_clip group_size 16 must divide the weight's input size 24");
  }
  spec = weight_spec(4, 8);
  spec.clip_ratio = 0.9;
  EXPECT_THROW(awq_clip_quantize(w, h, spec, {}), Error);
  spec = weight_spec(4, 0);
  spec.granularity = quant::Granularity::per_tensor;
  EXPECT_THROW(awq_clip_quantize(w, h, spec, {}), Error);
  EXPECT_THROW(awq_clip_quantize(w, torch::eye(8), weight_spec(4, 8), {}), Error);
  AwqClipOptions bad;
  bad.max_shrink = 1.0;
  EXPECT_THROW(AwqClipQuantizer{bad}, Error);
}

}  // namespace
}  // namespace abq::methods

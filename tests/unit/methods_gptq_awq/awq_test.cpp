// Expected values: tests/fixtures/calib/awq_cases.json, written by tools/fixtures/calib_awq_reference.py,
// an independent plain-Python float64 implementation of llm-awq's _search_module_scale and
// pseudo_quantize_tensor (x [64, 16] with outlier channels, 3 bits, groups of 8, 20 ratios). The
// model-level test checks the defining property of a correction: the fp model's logits are unchanged.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "framework/core/error.h"
#include "framework/methods/corrections/awq.h"
#include "framework/model/linear.h"
#include "framework/model/mlp.h"
#include "framework/quant/quant_spec.h"
#include "tests/support/tiny_llama_config.h"

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

torch::Tensor vector_of(const json& values) {
  auto t = torch::empty({int64_t(values.size())}, torch::kFloat64);
  for (size_t i = 0; i < values.size(); ++i) t[int64_t(i)] = values[i].get<double>();
  return t;
}

AwqWeightGrid asymmetric(int bits, int64_t group_size) {
  AwqWeightGrid g;
  g.levels = int64_t(1) << bits;
  g.group_size = group_size;
  return g;
}

// Every weight site of a model on one spec.
WeightSpecs all_weights(int bits, quant::Granularity granularity, int64_t group_size = 0) {
  quant::QuantSpec spec;
  spec.bits = bits;
  spec.granularity = granularity;
  spec.group_size = group_size;
  return [spec](const std::string&) { return spec; };
}

TEST(Awq, ScaleSearchMatchesReferenceImplementation) {
  std::ifstream in(std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/calib/awq_cases.json");
  ASSERT_TRUE(in.good()) << "missing fixture; run tools/fixtures/calib_awq_reference.py";
  const json doc = json::parse(in);
  AwqOptions options;
  options.grid = doc["grid"].get<int64_t>();
  const auto grid = asymmetric(doc["bits"].get<int>(), doc["group_size"].get<int64_t>());
  const auto x = matrix(doc["x"]);  // [64, 16]
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<torch::Tensor> weights;
    for (const auto& w : c["weights"]) weights.push_back(matrix(w));
    AwqInspect inspect;
    if (weights.size() == 1) {
      inspect = [&](const std::vector<torch::Tensor>& w) { return model::linear_forward(x, {w[0], {}}); };
    } else {
      const auto down = matrix(c["down"]);
      inspect = [&, down](const std::vector<torch::Tensor>& w) {
        return model::mlp_forward(x, {w[0], {}}, {w[1], {}}, {down, {}});
      };
    }
    const auto r = awq_search_scales(x, weights, std::vector<AwqWeightGrid>(weights.size(), grid), options, inspect);
    EXPECT_DOUBLE_EQ(r.ratio, c["ratio"].get<double>());
    EXPECT_TRUE(torch::allclose(r.scales, vector_of(c["scales"]), 1e-9, 0));
    ASSERT_EQ(r.losses.size(), c["losses"].size());
    for (size_t k = 0; k < r.losses.size(); ++k)
      EXPECT_NEAR(r.losses[k], c["losses"][k].get<double>(), 1e-9 * c["losses"][k].get<double>()) << "ratio " << k;
  }
}

TEST(Awq, PseudoQuantizeByHand) {
  // One group of 4 at 2 bits: min -1, max 2 -> scale 1, zero 1; 0.4 -> 0, 1.6 -> 2 (half-even ties aside).
  auto w = torch::tensor({{-1.0, 0.4, 1.6, 2.0}}, torch::kFloat64);
  auto q = awq_pseudo_quantize(w, asymmetric(2, 4));
  EXPECT_TRUE(torch::equal(q, torch::tensor({{-1.0, 0.0, 2.0, 2.0}}, torch::kFloat64)));
  // All-positive group: the zero-point is clamped to 0, so values above 3·scale clip (the reference).
  auto p = awq_pseudo_quantize(torch::tensor({{1.0, 4.0}}, torch::kFloat64), asymmetric(2, 2));  // scale 1, zero 0
  EXPECT_TRUE(torch::equal(p, torch::tensor({{1.0, 3.0}}, torch::kFloat64)));
}

TEST(Awq, PseudoQuantizeOnThePlanGridByHand) {
  quant::QuantSpec spec;
  spec.bits = 2;
  spec.bit_balance = true;  // W2*: 5 levels -> scale (3 - -1) / 4 = 1, zero 1: 3 stays 3 (4 levels: 2.5 -> 2)
  auto w = torch::tensor({{-1.0, 0.4, 1.6, 3.0}}, torch::kFloat64);
  EXPECT_TRUE(torch::equal(awq_pseudo_quantize(w, AwqWeightGrid::of(spec)),
                           torch::tensor({{-1.0, 0.0, 2.0, 3.0}}, torch::kFloat64)));
  // Symmetric (the reference's zero_point=False), 3 bits: scale max|w| / 3 = 1, codes in [-4, 3].
  spec = {};
  spec.bits = 3;
  spec.symmetric = true;
  auto s = torch::tensor({{-3.0, 0.4, 1.6, 3.0}, {-0.3, 0.06, 0.1, 0.2}}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(awq_pseudo_quantize(s, AwqWeightGrid::of(spec)),
                              torch::tensor({{-3.0, 0.0, 2.0, 3.0}, {-0.3, 0.1, 0.1, 0.2}}, torch::kFloat64), 0, 1e-15));
  // Per tensor, 2 bits: one range [-1, 2] -> scale 1, zero 1, every value exact. Per channel, row 1
  // alone has range [1, 2]: scale 1/3, zero clamped to 0, so both values clip to 3·(1/3) = 1.
  spec = {};
  spec.bits = 2;
  spec.granularity = quant::Granularity::per_tensor;
  auto t = torch::tensor({{-1.0, 0.0}, {1.0, 2.0}}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(awq_pseudo_quantize(t, AwqWeightGrid::of(spec)), t, 0, 1e-15));
  spec.granularity = quant::Granularity::per_channel;
  EXPECT_TRUE(torch::allclose(awq_pseudo_quantize(t, AwqWeightGrid::of(spec)),
                              torch::tensor({{-1.0, 0.0}, {1.0, 1.0}}, torch::kFloat64), 0, 1e-15));
  // A site the plan leaves fp is searched with its exact weight.
  EXPECT_TRUE(torch::equal(awq_pseudo_quantize(t, AwqWeightGrid::of(quant::QuantSpec{})), t));
}

TEST(Awq, ApplyKeepsTheFpModelAndFoldsTheChosenScales) {
  model::LlamaConfig c;
  c.vocab_size = 64;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 4;  // no GQA: the v -> o pair is searched too
  c.rms_eps = 1e-5;
  auto m = model::make_random_model(c, 31, torch::kFloat64);
  const auto norm_before = m.weights().layers[1].input_norm.clone();
  torch::manual_seed(2);
  std::vector<torch::Tensor> windows = {torch::randint(0, 64, {1, 16}, torch::kInt64),
                                        torch::randint(0, 64, {1, 16}, torch::kInt64)};
  const auto before = m.forward(windows[0]);
  Awq awq;
  awq.apply(m, windows, all_weights(3, quant::Granularity::per_group, 16));
  const auto after = m.forward(windows[0]);
  EXPECT_LT((after - before).abs().max().item<double>(), 1e-9 * before.abs().max().item<double>());
  ASSERT_EQ(awq.searches().size(), 8u);  // 4 groups × 2 layers
  const auto& s = awq.searches().at("layers.1.input_layernorm.weight");
  EXPECT_TRUE(torch::allclose(m.weights().layers[1].input_norm * s.scales, norm_before, 1e-12, 1e-12));
  EXPECT_EQ(s.losses.size(), 20u);
  for (double loss : s.losses) EXPECT_GE(loss, *std::min_element(s.losses.begin(), s.losses.end()));
  EXPECT_EQ(s.losses[size_t(std::lround(s.ratio * 20))], *std::min_element(s.losses.begin(), s.losses.end()));
}

TEST(Awq, RejectsAGroupThatDoesNotDivide) {
  model::LlamaConfig c;
  c.vocab_size = 64;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_layers = 1;
  c.num_heads = 4;
  auto m = model::make_random_model(c, 32);
  Awq awq;
  try {
    awq.apply(m, {torch::zeros({1, 4}, torch::kInt64)}, all_weights(4, quant::Granularity::per_group, 24));
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "awq: group_size 24 does not divide the input size 32 of layers.0.self_attn.q_proj.weight");
    EXPECT_EQ(e.context().at(0), "while applying awq");
  }
}

// The search quantizes on the grid it is given: W3 and W4 choose different scales, and the same
// grid chooses the same scales again.
TEST(Awq, ScalesFollowTheWeightGrid) {
  const auto c = test::tiny_llama_config(1, /*kv_heads=*/4);
  torch::manual_seed(5);
  const std::vector<torch::Tensor> windows = {torch::randint(0, 64, {1, 24}, torch::kInt64)};
  const auto ratios = [&](int bits) {
    auto m = model::make_random_model(c, 33, torch::kFloat64);
    Awq awq;
    awq.apply(m, windows, all_weights(bits, quant::Granularity::per_channel));
    std::vector<std::vector<double>> losses;
    for (const auto& [op, search] : awq.searches()) losses.push_back(search.losses);
    return losses;
  };
  const auto w3 = ratios(3);
  EXPECT_EQ(ratios(3), w3);
  EXPECT_NE(ratios(4), w3);
}

TEST(Awq, NeedsTheWeightPlan) {
  auto m = model::make_random_model(test::tiny_llama_config(1), 34);
  try {
    Awq().apply(m, {torch::zeros({1, 4}, torch::kInt64)});
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "awq searches on the experiment's weight grid: no weight specs given");
  }
}

}  // namespace
}  // namespace abq::methods

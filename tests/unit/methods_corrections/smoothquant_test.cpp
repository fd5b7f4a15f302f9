// Expected values: the SmoothQuant formula s_j = max|X_j|^α / max|W_j|^(1−α) (Xiao et al. 2023,
// smooth.py; spec §20.1) evaluated by hand on small inputs (see each test); output preservation
// against the unsmoothed model's own logits; activation statistics against the definition
// max over tokens of |rms_norm(embed(tokens))_j| for layer 0's q_proj input.
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/methods/corrections/smoothquant.h"
#include "framework/model/rms_norm.h"
#include "tests/support/tiny_llama_config.h"

namespace abq::methods {
namespace {

std::vector<torch::Tensor> calibration_tokens(uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return {torch::randint(64, {2, 8}, gen, torch::kLong), torch::randint(64, {1, 12}, gen, torch::kLong)};
}

torch::Tensor eval_tokens() {
  return torch::tensor({1, 9, 33, 60, 4, 21, 50, 13, 7, 38}, torch::kLong).reshape({2, 5});
}

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  auto a64 = a.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
  return (a64 - b64).abs().max().item<double>() / b64.abs().max().item<double>();
}

// max|X| / mean|X| of one activation site on `tokens`.
double outlier_ratio(model::LlamaModel& m, const std::string& site, const torch::Tensor& tokens) {
  torch::Tensor seen;
  m.set_activation_hook(site, [&seen](const torch::Tensor& x) {
    seen = x.detach().clone();
    return x;
  });
  m.forward(tokens);
  m.clear_activation_hooks();
  return seen.abs().max().item<double>() / seen.abs().mean().item<double>();
}

TEST(SmoothQuantScales, HandComputedAlphaHalf) {
  // act = [4, 1, 0, 9]; joint column max of |W1|, |W2| = [4, 0.5, 2, 1]
  // s = sqrt(act) / sqrt(wmax) = [2/2, 1/sqrt(0.5), 0 -> clamp 1e-5, 3/1] = [1, 1.4142136, 1e-5, 3]
  auto act = torch::tensor({4.0f, 1.0f, 0.0f, 9.0f});
  auto w1 = torch::tensor({1.0f, -0.25f, 2.0f, 0.5f}).reshape({1, 4});
  auto w2 = torch::tensor({-4.0f, 0.5f, 0.0f, 1.0f, 0.5f, 0.1f, -1.0f, -0.5f}).reshape({2, 4});
  auto s = smoothquant_scales(act, {w1, w2}, 0.5);
  ASSERT_EQ(s.numel(), 4);
  EXPECT_FLOAT_EQ(s[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(s[1].item<float>(), 1.41421356f);
  EXPECT_FLOAT_EQ(s[2].item<float>(), 1e-5f);
  EXPECT_FLOAT_EQ(s[3].item<float>(), 3.0f);
}

TEST(SmoothQuantScales, HandComputedOtherAlphas) {
  // α = 0.75: s = act^0.75 / w^0.25: [16^0.75 / 1, 1 / 16^0.25] = [8, 0.5]
  auto act = torch::tensor({16.0f, 1.0f});
  auto w = torch::tensor({1.0f, 16.0f, -0.5f, -2.0f}).reshape({2, 2});
  auto s = smoothquant_scales(act, {w}, 0.75);
  EXPECT_FLOAT_EQ(s[0].item<float>(), 8.0f);
  EXPECT_FLOAT_EQ(s[1].item<float>(), 0.5f);
  // α = 0: s = 1 / max|W_j| (a zero column clamps max|W| at 1e-5 first: 1 / 1e-5 = 1e5).
  auto w0 = torch::tensor({0.25f, 0.0f}).reshape({1, 2});
  auto s0 = smoothquant_scales(act, {w0}, 0.0);
  EXPECT_FLOAT_EQ(s0[0].item<float>(), 4.0f);
  EXPECT_NEAR(s0[1].item<float>(), 1e5f, 1.0f);
}

TEST(SmoothQuantScales, FoldingScalesNormAndColumns) {
  auto norm = torch::tensor({2.0, 3.0});
  model::Linear a{torch::tensor({1.0, 1.0, 2.0, 2.0}).reshape({2, 2}), torch::tensor({7.0, 8.0})};
  fold_smoothing_scales(norm, {&a}, torch::tensor({2.0f, 0.5f}));
  EXPECT_TRUE(torch::equal(norm, torch::tensor({1.0, 6.0})));
  EXPECT_TRUE(torch::equal(a.weight, torch::tensor({2.0, 0.5, 4.0, 1.0}).reshape({2, 2})));
  EXPECT_TRUE(torch::equal(a.bias, torch::tensor({7.0, 8.0})));  // biases act on outputs: unchanged
}

TEST(CollectInputAbsmax, MatchesDefinitionAndRestoresHooks) {
  auto m = model::make_random_model(test::tiny_llama_config(), 3);
  int calls = 0;
  m.set_activation_hook("layers.1.self_attn.k", [&calls](const torch::Tensor& x) {
    ++calls;
    return x;
  });
  auto tokens = calibration_tokens(7);
  auto stats = collect_input_absmax(m, tokens);
  EXPECT_EQ(calls, 0);  // statistics come from the unhooked fp model
  ASSERT_EQ(stats.size(), 2u * 7u);
  EXPECT_EQ(stats.at("layers.0.self_attn.q_proj.input").sizes(), (std::vector<int64_t>{32}));
  EXPECT_EQ(stats.at("layers.1.mlp.down_proj.input").sizes(), (std::vector<int64_t>{64}));
  EXPECT_TRUE(torch::equal(stats.at("layers.1.self_attn.q_proj.input"), stats.at("layers.1.self_attn.v_proj.input")));
  EXPECT_TRUE(torch::equal(stats.at("layers.1.mlp.gate_proj.input"), stats.at("layers.1.mlp.up_proj.input")));

  // Layer 0's q_proj input is rms_norm(embed(tokens)); its per-channel max over all tokens of both batches.
  torch::Tensor want;
  for (const auto& t : tokens) {
    auto x = model::rms_norm(m.embed(t), m.weights().layers[0].input_norm, m.config().rms_eps);
    auto mx = x.abs().reshape({-1, 32}).amax(0);
    want = want.defined() ? torch::maximum(want, mx) : mx;
  }
  EXPECT_TRUE(torch::allclose(stats.at("layers.0.self_attn.q_proj.input"), want, 1e-6, 0));

  m.forward(eval_tokens());
  EXPECT_EQ(calls, 1);  // the caller's hook is back
  try {
    collect_input_absmax(m, {});
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "collecting activation statistics: no calibration batches were given");
  }
}

TEST(SmoothQuant, PreservesFp32Output) {
  auto m = model::make_random_model(test::tiny_llama_config(), 21);
  auto before = m.forward(eval_tokens());
  SmoothQuant sq;
  EXPECT_EQ(sq.name(), "smoothquant");
  sq.apply(m, calibration_tokens(5));
  auto after = m.forward(eval_tokens());
  EXPECT_LT(rel_diff(after, before), 1e-5);
  // The transform did something: norms and linears moved.
  auto fresh = model::make_random_model(test::tiny_llama_config(), 21);
  EXPECT_FALSE(torch::allclose(m.weights().layers[0].input_norm, fresh.weights().layers[0].input_norm));
  EXPECT_FALSE(torch::allclose(m.weights().layers[1].up_proj.weight, fresh.weights().layers[1].up_proj.weight));
  // o_proj and down_proj are not smoothed.
  EXPECT_TRUE(torch::equal(m.weights().layers[1].o_proj.weight, fresh.weights().layers[1].o_proj.weight));
  EXPECT_TRUE(torch::equal(m.weights().layers[1].down_proj.weight, fresh.weights().layers[1].down_proj.weight));
}

TEST(SmoothQuant, PreservesFp64OutputWithBiasAndTiedEmbeddings) {
  auto config = test::tiny_llama_config();
  config.attention_bias = true;
  config.tie_embeddings = true;
  auto m = model::make_random_model(config, 22, torch::kFloat64);
  auto before = m.forward(eval_tokens());
  SmoothQuant sq(SmoothQuantOptions{0.85});
  sq.apply(m, calibration_tokens(6));
  EXPECT_LT(rel_diff(m.forward(eval_tokens()), before), 1e-12);
  EXPECT_EQ(m.weights().lm_head.data_ptr(), m.weights().embed_tokens.data_ptr());
}

TEST(SmoothQuant, ScalesFollowFormulaOnCollectedStatistics) {
  auto m = model::make_random_model(test::tiny_llama_config(), 23);
  const auto fresh = model::make_random_model(test::tiny_llama_config(), 23);
  auto tokens = calibration_tokens(8);
  auto stats = collect_input_absmax(m, tokens);
  SmoothQuant sq(SmoothQuantOptions{0.5});
  sq.apply(m, tokens);
  ASSERT_EQ(sq.scales().size(), 4u);
  const auto& b0 = fresh.weights().layers[0];
  const auto& s = sq.scales().at("layers.0.input_layernorm.weight");
  // Element by element: s_j = sqrt(a_j) / sqrt(max(|Wq_.j|, |Wk_.j|, |Wv_.j|)).
  auto a = stats.at("layers.0.self_attn.q_proj.input");
  for (int64_t j = 0; j < 32; ++j) {
    double wmax = 0;
    for (const auto* w : {&b0.q_proj.weight, &b0.k_proj.weight, &b0.v_proj.weight})
      wmax = std::max(wmax, w->select(1, j).abs().max().item<double>());
    const double want = std::sqrt(a[j].item<double>()) / std::sqrt(wmax);
    EXPECT_NEAR(s[j].item<double>(), want, 1e-6 * want) << j;
    EXPECT_NEAR(m.weights().layers[0].input_norm[j].item<double>(), b0.input_norm[j].item<double>() / want,
                1e-5 * std::abs(b0.input_norm[j].item<double>() / want));
  }
  EXPECT_TRUE(torch::allclose(m.weights().layers[0].k_proj.weight, b0.k_proj.weight * s.unsqueeze(0)));
  EXPECT_TRUE(sq.scales().count("layers.1.post_attention_layernorm.weight"));
}

TEST(SmoothQuant, ReducesPlantedActivationOutlier) {
  auto m = model::make_random_model(test::tiny_llama_config(), 24);
  {
    torch::NoGradGuard guard;
    // Channel 5 of both norms in layer 0 becomes a 40x outlier channel at q/k/v and gate/up inputs.
    m.weights().layers[0].input_norm[5].mul_(40.0);
    m.weights().layers[0].post_attention_norm[11].mul_(40.0);
  }
  const auto tokens = eval_tokens();
  const double q_before = outlier_ratio(m, "layers.0.self_attn.q_proj.input", tokens);
  const double gate_before = outlier_ratio(m, "layers.0.mlp.gate_proj.input", tokens);
  EXPECT_GT(q_before, 10.0);
  auto logits = m.forward(tokens);
  SmoothQuant sq;
  sq.apply(m, calibration_tokens(9));
  const double q_after = outlier_ratio(m, "layers.0.self_attn.q_proj.input", tokens);
  const double gate_after = outlier_ratio(m, "layers.0.mlp.gate_proj.input", tokens);
  // α = 0.5 leaves max|X̂_j| = sqrt(max|X_j| · max|W_j|): a 40x channel shrinks to about sqrt(40) ≈ 6x.
  EXPECT_LT(q_after, q_before / 2) << q_before << " -> " << q_after;
  EXPECT_LT(gate_after, gate_before / 2) << gate_before << " -> " << gate_after;
  EXPECT_LT(rel_diff(m.forward(tokens), logits), 1e-5);
}

TEST(SmoothQuant, PreservesOutputOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (CPU-only LibTorch or no GPU)";
  auto m = model::make_random_model(test::tiny_llama_config(), 26);
  m.to(torch::Device(torch::kCUDA), torch::kFloat32);
  auto before = m.forward(eval_tokens());
  std::vector<torch::Tensor> tokens;
  for (const auto& t : calibration_tokens(10)) tokens.push_back(t.to(torch::kCUDA));
  SmoothQuant().apply(m, tokens);
  EXPECT_TRUE(m.weights().layers[0].input_norm.is_cuda());
  EXPECT_LT(rel_diff(m.forward(eval_tokens()).cpu(), before.cpu()), 1e-5);
}

TEST(SmoothQuant, RejectsAlphaOutsideUnitInterval) {
  try {
    SmoothQuant sq(SmoothQuantOptions{1.5});
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "smoothquant: alpha must be in [0, 1], got 1.5");
  }
  auto m = model::make_random_model(test::tiny_llama_config(), 25);
  try {
    SmoothQuant().apply(m, {torch::zeros({4}, torch::kLong)});
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "while calibrating smoothquant\n  calibration batch 0 must be a [B, T] token tensor, got 1 dimensions");
  }
}

}  // namespace
}  // namespace abq::methods

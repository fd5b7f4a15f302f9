// Expected values: the definition of a Hadamard matrix (entries ±1, H·Hᵀ = n·I, exact in float64)
// and of an orthogonal matrix (Q·Qᵀ = I); output preservation against the unrotated model's own
// logits (the defining property of an output-preserving correction, QuaRot arXiv 2404.00456 §4);
// outlier statistics per token (max|x| / mean|x| and kurtosis E[x⁴]/E[x²]² over the channels) and W4 round-to-nearest logit
// error, each compared between the same model before and after rotation.
#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/methods/corrections/hadamard.h"
#include "framework/methods/corrections/rotation.h"
#include "framework/quant/fake_quant.h"

namespace abq::methods {
namespace {

// GQA (4 heads, 2 kv heads), head_dim 12 (Paley I, q = 11), C = 48 (Paley I, q = 47), F = 96 (2·48).
model::LlamaConfig tiny_config() {
  model::LlamaConfig c;
  c.vocab_size = 64;
  c.hidden_size = 48;
  c.intermediate_size = 96;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.rms_eps = 1e-5;
  return c;
}

torch::Tensor eval_tokens() {
  return torch::tensor({1, 9, 33, 60, 4, 21, 50, 13, 7, 38, 2, 44}, torch::kLong).reshape({2, 6});
}

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  auto a64 = a.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
  return (a64 - b64).abs().max().item<double>() / b64.abs().max().item<double>();
}

double orthogonality_error(const torch::Tensor& q) {
  return (q.matmul(q.t()) - torch::eye(q.size(0), q.options())).abs().max().item<double>();
}

// The activation seen at one site on `tokens`.
torch::Tensor activation_at(model::LlamaModel& m, const std::string& site, const torch::Tensor& tokens) {
  torch::Tensor seen;
  m.set_activation_hook(site, [&seen](const torch::Tensor& x) {
    seen = x.detach().to(torch::kFloat64).clone();
    return x;
  });
  m.forward(tokens);
  m.clear_activation_hooks();
  return seen;
}

// Per token over the channels (the last dim), averaged over tokens: a channel outlier is a property of
// each token's vector, while differences between tokens' magnitudes are not (rotations keep them).
double max_to_mean(const torch::Tensor& x) {
  return (std::get<0>(x.abs().max(-1)) / x.abs().mean(-1)).mean().item<double>();
}
double kurtosis(const torch::Tensor& x) {
  return (x.pow(4).mean(-1) / x.square().mean(-1).square()).mean().item<double>();
}

// Relative logit error of per-channel W4 round-to-nearest on every linear of a copy of `fp`.
double w4_rtn_logit_error(model::LlamaModel fp, const torch::Tensor& tokens) {
  quant::QuantSpec w4;
  w4.bits = 4;
  w4.granularity = quant::Granularity::per_channel;
  const auto reference = fp.forward(tokens);
  for (auto& b : fp.weights().layers)
    for (model::LinearKind kind : model::all_linear_kinds())
      b.linear(kind).weight = quant::fake_quant(b.linear(kind).weight, w4).fake;
  return ((fp.forward(tokens) - reference).norm() / reference.norm()).item<double>();
}

TEST(Hadamard, ConstructedMatricesAreHadamard) {
  for (int64_t n : {1, 2, 4, 8, 12, 20, 24, 28, 36, 40, 44, 48, 60, 72, 76, 96, 108, 140, 576}) {
    SCOPED_TRACE(n);
    const auto h = hadamard_matrix(n);
    ASSERT_TRUE(h.has_value());
    EXPECT_TRUE(torch::equal(h->abs(), torch::ones({n, n}, torch::kFloat64)));
    EXPECT_TRUE(torch::equal(h->matmul(h->t()), n * torch::eye(n, torch::kFloat64)));  // integers: exact
  }
  for (int64_t n : {3, 6, 10, 52, 90}) EXPECT_FALSE(hadamard_matrix(n).has_value()) << n;
}

TEST(Hadamard, RandomizedRotationIsOrthogonalWithEntriesOfOneOverRootN) {
  for (int64_t n : {16, 12, 48, 576}) {
    SCOPED_TRACE(n);
    const auto q = hadamard_rotation(n, 5, true);
    EXPECT_LT(orthogonality_error(q), 1e-12);
    EXPECT_LT((q.abs() - 1.0 / std::sqrt(double(n))).abs().max().item<double>(), 1e-15);
    // Random signs: row i is s_i times row i of H/√n.
    const auto plain = hadamard_rotation(n, 5, false);
    const auto signs = (q / plain).select(1, 0);
    EXPECT_TRUE(torch::equal((q / plain), signs.unsqueeze(1).expand({n, n})));
    EXPECT_TRUE(torch::equal(q, hadamard_rotation(n, 5, true)));  // deterministic per seed
  }
  EXPECT_FALSE(torch::equal(hadamard_rotation(64, 1, true), hadamard_rotation(64, 2, true)));
}

TEST(Hadamard, FallbackIsPowerOfTwoHadamardTimesRandomOrthogonal) {
  // 90 = 2·45 has no Hadamard matrix (90 ≢ 0 mod 4): Q = H_2/√2 ⊗ R_45.
  const auto q = hadamard_rotation(90, 3, false);
  EXPECT_LT(orthogonality_error(q), 1e-12);
  using torch::indexing::Slice;
  const auto r = q.index({Slice(0, 45), Slice(0, 45)}) * std::sqrt(2.0);
  EXPECT_LT(orthogonality_error(r), 1e-12);
  EXPECT_TRUE(torch::allclose(q.index({Slice(0, 45), Slice(45, 90)}), r / std::sqrt(2.0), 0, 1e-15));
  EXPECT_TRUE(torch::allclose(q.index({Slice(45, 90), Slice(45, 90)}), -r / std::sqrt(2.0), 0, 1e-15));
  EXPECT_LT(orthogonality_error(hadamard_rotation(6, 3, true)), 1e-12);
  EXPECT_THROW(hadamard_rotation(0, 0, true), Error);
}

TEST(Rotation, FoldingNormsPreservesOutputAndUntiesLmHead) {
  auto c = tiny_config();
  c.tie_embeddings = true;
  auto m = model::make_random_model(c, 11, torch::kFloat64);
  const auto before = m.forward(eval_tokens());
  const auto embed = m.weights().embed_tokens.clone();
  fold_rms_norms(m);
  EXPECT_LT(rel_diff(m.forward(eval_tokens()), before), 1e-12);
  EXPECT_FALSE(m.config().tie_embeddings);
  EXPECT_NE(m.weights().lm_head.data_ptr(), m.weights().embed_tokens.data_ptr());
  EXPECT_TRUE(torch::equal(m.weights().embed_tokens, embed));
  for (const auto& b : m.weights().layers) {
    EXPECT_TRUE(torch::equal(b.input_norm, torch::ones_like(b.input_norm)));
    EXPECT_TRUE(torch::equal(b.post_attention_norm, torch::ones_like(b.post_attention_norm)));
  }
  EXPECT_TRUE(torch::equal(m.weights().norm, torch::ones_like(m.weights().norm)));
}

TEST(Rotation, PreservesFp64OutputWithGqaBiasAndTiedEmbeddings) {
  auto c = tiny_config();
  c.tie_embeddings = true;
  c.attention_bias = true;  // Qwen2-style q/k/v biases
  for (bool ov : {true, false})
    for (bool down : {true, false}) {
      SCOPED_TRACE(cat("rotate_ov ", ov, " online_down ", down));
      auto m = model::make_random_model(c, 12, torch::kFloat64);
      const auto before = m.forward(eval_tokens());
      RotationOptions options;
      options.rotate_ov = ov;
      options.online_down = down;
      Rotation rotation(options);
      rotation.apply(m, {});
      EXPECT_LT(rel_diff(m.forward(eval_tokens()), before), 1e-10);
      EXPECT_LT(orthogonality_error(rotation.residual_rotation()), 1e-12);
      EXPECT_EQ(m.weights().layers[0].down_input_transform.defined(), down);
      // Every layer reads the same online matrix.
      if (down) {
        EXPECT_EQ(m.weights().layers[0].down_input_transform.data_ptr(),
                  m.weights().layers[1].down_input_transform.data_ptr());
      }
    }
}

TEST(Rotation, PreservesFp32OutputWithFallbackSizes) {
  // C = 24 (Paley I, q = 23), head_dim 6 and F = 90 have no Hadamard matrix: the fallback rotations.
  auto c = tiny_config();
  c.hidden_size = 24;
  c.intermediate_size = 90;
  c.tie_embeddings = true;
  c.attention_bias = true;
  auto m = model::make_random_model(c, 13, torch::kFloat32);
  const auto before = m.forward(eval_tokens());
  Rotation rotation;
  rotation.apply(m, {});
  EXPECT_LT(rel_diff(m.forward(eval_tokens()), before), 1e-4);
  EXPECT_EQ(m.weights().layers[1].down_input_transform.scalar_type(), torch::kFloat32);
}

TEST(Rotation, PreservesFp32OutputPowerOfTwo) {
  auto c = tiny_config();
  c.hidden_size = 64;
  c.intermediate_size = 128;
  auto m = model::make_random_model(c, 14, torch::kFloat32);
  const auto before = m.forward(eval_tokens());
  Rotation rotation;
  rotation.apply(m, {});
  EXPECT_LT(rel_diff(m.forward(eval_tokens()), before), 1e-4);
  // Power of two: Q's entries are ±1/8.
  EXPECT_LT((rotation.residual_rotation().abs() - 0.125).abs().max().item<double>(), 1e-15);
}

TEST(Rotation, ComposesWithOnlineTransformsAndKeepsHooks) {
  auto c = tiny_config();
  c.tie_embeddings = true;  // untying rebuilds the model; the hooks must survive it
  auto m = model::make_random_model(c, 15, torch::kFloat64);
  const auto before = m.forward(eval_tokens());
  // An existing online transform T = R on the attention input with q/k/v ← W·R keeps the function
  // (x·R·(W·R)ᵀ = x·Wᵀ); the rotation must fold the norm into T and rotate T, not the weights.
  auto& b0 = m.weights().layers[0];
  const auto r = hadamard_rotation(c.hidden_size, 9, true);
  b0.attn_input_transform = r;
  for (auto* l : {&b0.q_proj, &b0.k_proj, &b0.v_proj}) l->weight = l->weight.matmul(r);
  ASSERT_LT(rel_diff(m.forward(eval_tokens()), before), 1e-12);
  int64_t calls = 0;
  m.set_activation_hook("layers.1.mlp.up_proj.input", [&calls](const torch::Tensor& x) {
    ++calls;
    return x;
  });
  Rotation first;
  first.apply(m, {});
  RotationOptions other;
  other.seed = 4;
  Rotation second(other);  // down_input_transform is now defined: composed, not replaced
  second.apply(m, {});
  calls = 0;
  EXPECT_LT(rel_diff(m.forward(eval_tokens()), before), 1e-10);
  EXPECT_EQ(calls, 1);
}

TEST(Rotation, SpreadsPlantedActivationOutliers) {
  auto c = tiny_config();
  c.hidden_size = 64;
  c.intermediate_size = 128;
  auto m = model::make_random_model(c, 16, torch::kFloat64);
  auto& b0 = m.weights().layers[0];
  // Residual-side outlier: channel 5 of layer 0's norms ×40 (q/k/v and gate/up inputs).
  b0.input_norm.index_put_({5}, b0.input_norm.index({5}) * 40);
  b0.post_attention_norm.index_put_({5}, b0.post_attention_norm.index({5}) * 40);
  // Hidden-side outlier: up_proj row 7 ×40 makes channel 7 of the down_proj input loud.
  b0.up_proj.weight.index_put_({7}, b0.up_proj.weight.index({7}) * 40);
  const auto tokens = eval_tokens();
  std::map<std::string, torch::Tensor> before;
  for (const char* site : {"layers.0.self_attn.q_proj.input", "layers.0.mlp.gate_proj.input",
                           "layers.0.mlp.down_proj.input"})
    before[site] = activation_at(m, site, tokens);
  Rotation rotation;
  rotation.apply(m, {});
  for (const auto& [site, x] : before) {
    SCOPED_TRACE(site);
    const auto y = activation_at(m, site, tokens);
    RecordProperty(site + ":max_to_mean", std::to_string(max_to_mean(x)) + " -> " + std::to_string(max_to_mean(y)));
    RecordProperty(site + ":kurtosis", std::to_string(kurtosis(x)) + " -> " + std::to_string(kurtosis(y)));
    EXPECT_LT(max_to_mean(y), 0.5 * max_to_mean(x));
    EXPECT_LT(kurtosis(y), 0.5 * kurtosis(x));
    EXPECT_LT(kurtosis(y), 6.0);  // near Gaussian (3) after rotation
  }
}

TEST(Rotation, LowersW4RoundToNearestErrorOnAModelWithOutliers) {
  auto c = tiny_config();
  c.hidden_size = 64;
  c.intermediate_size = 128;
  c.num_layers = 2;
  auto m = model::make_random_model(c, 17, torch::kFloat64);
  // Outliers: norm channel 5 ×20 in every block, and 1% of the entries of every linear ×15.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(99);
  for (auto& b : m.weights().layers) {
    b.input_norm.index_put_({5}, b.input_norm.index({5}) * 20);
    b.post_attention_norm.index_put_({5}, b.post_attention_norm.index({5}) * 20);
    for (model::LinearKind kind : model::all_linear_kinds()) {
      auto& w = b.linear(kind).weight;
      auto mask = torch::rand(w.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat64)) < 0.01;
      w = torch::where(mask, w * 15, w);
    }
  }
  const auto tokens = eval_tokens();
  const double plain = w4_rtn_logit_error(m, tokens);
  Rotation rotation;
  rotation.apply(m, {});
  const double rotated = w4_rtn_logit_error(m, tokens);
  RecordProperty("relative_logit_error_plain", std::to_string(plain));
  RecordProperty("relative_logit_error_rotated", std::to_string(rotated));
  EXPECT_LT(rotated, 0.7 * plain) << "plain " << plain << ", rotated " << rotated;
}

TEST(Rotation, OnlineResidualKeepsNormsAndPreservesFp64Output) {
  auto c = tiny_config();
  c.tie_embeddings = true;
  c.attention_bias = true;
  auto m = model::make_random_model(c, 18, torch::kFloat64);
  const auto before = m.forward(eval_tokens());
  const auto norm0 = m.weights().layers[0].input_norm.clone();
  const auto embed = m.weights().embed_tokens.clone();
  RotationOptions options;
  options.residual = ResidualRotation::online;
  Rotation rotation(options);
  rotation.apply(m, {});
  EXPECT_LT(rel_diff(m.forward(eval_tokens()), before), 1e-10);
  EXPECT_TRUE(m.config().tie_embeddings);  // nothing was folded into lm_head
  EXPECT_TRUE(torch::equal(m.weights().layers[0].input_norm, norm0));
  EXPECT_TRUE(torch::equal(m.weights().embed_tokens, embed));
  const auto& b = m.weights().layers[1];
  ASSERT_TRUE(b.attn_input_transform.defined() && b.mlp_input_transform.defined());
  EXPECT_LT(rel_diff(b.attn_input_transform, rotation.residual_rotation()), 1e-15);
}

TEST(Rotation, OnlineResidualComposesWithAnExistingTransform) {
  auto c = tiny_config();
  auto m = model::make_random_model(c, 19, torch::kFloat64);
  const auto before = m.forward(eval_tokens());
  auto& b0 = m.weights().layers[0];
  const auto r = hadamard_rotation(c.hidden_size, 9, true);
  b0.mlp_input_transform = r;
  for (auto* l : {&b0.gate_proj, &b0.up_proj}) l->weight = l->weight.matmul(r);
  RotationOptions options;
  options.residual = ResidualRotation::online;
  Rotation(options).apply(m, {});
  EXPECT_LT(rel_diff(m.forward(eval_tokens()), before), 1e-10);
}

// The pattern seen in SmolLM2-135M: a residual channel that is loud on every token, damped by a
// tiny input-norm weight. Folding the norm (fused) moves the damping into weight columns, where
// per-channel rounding error is as large as anywhere in the row and then meets the loud channel;
// the online residual rotation keeps the damping on the activation. Expected ordering only, from
// the error model ‖x·ΔWᵀ‖² ≈ ‖x‖²·E[ΔW²]: fused sees ‖x̂‖², online the much smaller ‖x̂·w‖².
TEST(Rotation, OnlineResidualBeatsFusedOnANormDampedLoudChannel) {
  auto c = tiny_config();
  c.hidden_size = 64;
  c.intermediate_size = 128;
  auto m = model::make_random_model(c, 20, torch::kFloat64);
  m.weights().embed_tokens.index_put_({torch::indexing::Slice(), 5}, 10.0);  // loud channel 5 in the residual stream
  for (auto& b : m.weights().layers) {
    b.input_norm.index_put_({5}, 0.002);
    b.post_attention_norm.index_put_({5}, 0.002);
  }
  const auto tokens = eval_tokens();
  auto error_after = [&](ResidualRotation residual) {
    RotationOptions options;
    options.residual = residual;
    auto copy = m;
    Rotation(options).apply(copy, {});
    EXPECT_LT(rel_diff(copy.forward(tokens), m.forward(tokens)), 1e-10);
    return w4_rtn_logit_error(copy, tokens);
  };
  const double plain = w4_rtn_logit_error(m, tokens);
  const double fused = error_after(ResidualRotation::fused);
  const double online = error_after(ResidualRotation::online);
  RecordProperty("relative_logit_error", cat("plain ", plain, ", fused ", fused, ", online ", online));
  EXPECT_GT(fused, 1.5 * plain) << "plain " << plain << ", fused " << fused;
  EXPECT_LT(online, 0.5 * fused) << "fused " << fused << ", online " << online;
}

TEST(Rotation, PreservesOutputOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (CPU-only LibTorch or no GPU)";
  auto c = tiny_config();
  c.tie_embeddings = true;
  c.attention_bias = true;
  auto m = model::make_random_model(c, 18, torch::kFloat32);
  m.to(torch::kCUDA, torch::kFloat32);
  const auto before = m.forward(eval_tokens().to(torch::kCUDA));
  Rotation rotation;
  rotation.apply(m, {});
  EXPECT_TRUE(m.weights().layers[0].down_input_transform.is_cuda());
  EXPECT_LT(rel_diff(m.forward(eval_tokens().to(torch::kCUDA)).cpu(), before.cpu()), 1e-4);
}

}  // namespace
}  // namespace abq::methods

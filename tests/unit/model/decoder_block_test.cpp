// The norm input biases of DecoderBlock. Expected values: the definition in decoder_block.h,
// written out here with rms_norm and torch::matmul, x_norm ← (rms(x)·w + b)·T; and, for the
// KV-cache chunk forward, the full forward of the same model (itself checked in kv_cache_test).
#include <gtest/gtest.h>

#include "framework/model/decoder_block.h"
#include "framework/model/llama_model.h"
#include "tests/support/tiny_llama_config.h"

namespace abq::model {
namespace {

TEST(DecoderBlock, NormInputBiasIsAddedBeforeTheOnlineTransform) {
  torch::manual_seed(3);
  auto m = make_random_model(test::tiny_llama_config(), 5, torch::kFloat64);
  DecoderBlock b = m.weights().layers[0];
  const int64_t C = 32;
  b.attn_input_bias = torch::randn({C}, torch::kFloat64);
  b.mlp_input_bias = torch::randn({C}, torch::kFloat64);
  b.attn_input_transform = torch::eye(C, torch::kFloat64) + 0.1 * torch::randn({C, C}, torch::kFloat64);
  b.mlp_input_transform = torch::eye(C, torch::kFloat64) + 0.1 * torch::randn({C, C}, torch::kFloat64);
  const auto x = torch::randn({2, 5, C}, torch::kFloat64);
  const double eps = 1e-5;

  torch::Tensor attn_in, mlp_in;
  LayerHooks hooks;
  hooks.at[size_t(SiteKind::up_proj_input)] = [&](const torch::Tensor& t) { return mlp_in = t; };
  auto attend = [&](const torch::Tensor& normed) {
    attn_in = normed;
    return torch::zeros_like(normed);  // h = x, so the MLP input is easy to write out
  };
  auto y = decoder_block_around(x, b, eps, &hooks, attend);

  auto want_attn = torch::matmul(rms_norm(x, b.input_norm, eps) + b.attn_input_bias, b.attn_input_transform);
  auto want_mlp = torch::matmul(rms_norm(x, b.post_attention_norm, eps) + b.mlp_input_bias, b.mlp_input_transform);
  EXPECT_LE((attn_in - want_attn).abs().max().item<double>(), 1e-12);
  EXPECT_LE((mlp_in - want_mlp).abs().max().item<double>(), 1e-12);
  EXPECT_EQ(y.sizes(), x.sizes());
}

TEST(DecoderBlock, KvCacheForwardAppliesTheNormInputBiases) {
  auto m = make_random_model(test::tiny_llama_config(), 7);
  auto plain = make_random_model(test::tiny_llama_config(), 7);
  torch::manual_seed(4);
  for (auto& b : m.weights().layers) {
    b.attn_input_bias = 0.5 * torch::randn({32});
    b.mlp_input_bias = 0.5 * torch::randn({32});
  }
  m.check_weights();
  torch::NoGradGuard no_grad;
  const auto prefix = torch::tensor(std::vector<int64_t>{3, 17, 42, 5}, torch::kLong).unsqueeze(0);
  const auto cont = torch::tensor(std::vector<int64_t>{29, 11, 8}, torch::kLong).unsqueeze(0);
  const auto whole = torch::cat({prefix, cont}, 1);
  auto full = m.forward(whole).slice(1, 4);
  // The biases change the function (else the comparison below would prove nothing) ...
  EXPECT_GT((full - plain.forward(whole).slice(1, 4)).abs().max().item<double>(), 1e-3);
  // ... and the chunk forward after a cached prefix sees them too.
  auto pre = m.prefill(prefix);
  auto chunk = m.forward_with_prefix(pre.cache, cont);
  EXPECT_LT((chunk - full).abs().max().item<double>(), 1e-5);
}

}  // namespace
}  // namespace abq::model

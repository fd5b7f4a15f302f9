// Expected values: the plain-loop causal softmax attention of reference_loops.h (softmax(QKᵀ/√D)
// with a causal mask; GQA query head h reads KV head h / (H / Hkv)) and its projections + RoPE.
#include <gtest/gtest.h>

#include "framework/model/attention.h"
#include "tests/unit/model/reference_loops.h"

namespace abq::model {
namespace {

using reference::to_vec;

TEST(Attention, CoreMatchesLoopReferenceWithGqa) {
  const int64_t B = 2, H = 4, Hkv = 2, T = 6, D = 8;
  torch::manual_seed(4);
  auto q = torch::randn({B, H, T, D}, torch::kFloat64);
  auto k = torch::randn({B, Hkv, T, D}, torch::kFloat64);
  auto v = torch::randn({B, Hkv, T, D}, torch::kFloat64);
  torch::Tensor probs;
  auto out = causal_attention(q, k, v, &probs);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{B, H, T, D}));
  for (int64_t b = 0; b < B; ++b) {
    auto want = reference::causal_attention(to_vec(q[b]), to_vec(k[b]), to_vec(v[b]), H, Hkv, T, D);
    auto got = to_vec(out[b]);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << "b=" << b << " i=" << i;
  }
  // Probabilities: rows sum to one, nothing above the diagonal.
  ASSERT_EQ(probs.sizes(), (std::vector<int64_t>{B, H, T, T}));
  EXPECT_TRUE(torch::allclose(probs.sum(-1), torch::ones({B, H, T}, torch::kFloat64)));
  EXPECT_EQ(probs.triu(1).abs().max().item<double>(), 0.0);
}

TEST(Attention, LayerWithBiasMatchesLoopReference) {
  const int64_t T = 5, C = 16, H = 4, Hkv = 2, D = 4;
  torch::manual_seed(5);
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  Linear q{torch::randn({H * D, C}, opts) * 0.3, torch::randn({H * D}, opts) * 0.1};
  Linear k{torch::randn({Hkv * D, C}, opts) * 0.3, torch::randn({Hkv * D}, opts) * 0.1};
  Linear v{torch::randn({Hkv * D, C}, opts) * 0.3, torch::randn({Hkv * D}, opts) * 0.1};
  Linear o{torch::randn({C, H * D}, opts) * 0.3, torch::Tensor()};
  auto x = torch::randn({1, T, C}, opts);
  auto inv = rope_inv_freq(D, 10000.0, RopeScaling{});
  RopeCache cache(inv);
  auto out = attention_forward(x, q, k, v, o, AttentionDims{H, Hkv, D}, cache.get(T, torch::kCPU, torch::kFloat64));

  reference::AttnWeights w{to_vec(q.weight), to_vec(q.bias), to_vec(k.weight), to_vec(k.bias),
                           to_vec(v.weight), to_vec(v.bias), to_vec(o.weight)};
  auto want = reference::attention_layer(to_vec(x[0]), w, reference::default_inv_freq(D, 10000.0), T, C, H, Hkv, D);
  auto got = to_vec(out[0]);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << i;
}

TEST(Attention, Fp32CloseToFp64) {
  const int64_t H = 4, Hkv = 1, T = 7, D = 8;
  torch::manual_seed(6);
  auto q = torch::randn({1, H, T, D}), k = torch::randn({1, Hkv, T, D}), v = torch::randn({1, Hkv, T, D});
  auto out32 = causal_attention(q, k, v);
  auto out64 = causal_attention(q.to(torch::kFloat64), k.to(torch::kFloat64), v.to(torch::kFloat64));
  EXPECT_EQ(out32.scalar_type(), torch::kFloat32);
  EXPECT_LT((out32.to(torch::kFloat64) - out64).abs().max().item<double>(), 1e-5);
}

}  // namespace
}  // namespace abq::model

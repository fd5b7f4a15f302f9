// KV reuse: prefill + forward_with_prefix against forward() over the whole sequence (itself checked
// against the plain-loop model in llama_model_test). The hooks below are written out here: a
// per-token and a per-tensor 3-bit round-to-nearest, so the exactness rule of kv_cache.h is seen
// both ways (token-local hooks give equal logits, a per-tensor range does not).
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/model/llama_model.h"
#include "tests/support/tiny_llama_config.h"

namespace abq::model {
namespace {

std::vector<int64_t> concat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

torch::Tensor row(const std::vector<int64_t>& ids) { return torch::tensor(ids, torch::kLong).unsqueeze(0); }

// Right-pads rows with id 0 into [B, T].
torch::Tensor padded(const std::vector<std::vector<int64_t>>& rows) {
  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.size());
  auto t = torch::zeros({int64_t(rows.size()), int64_t(width)}, torch::kLong);
  for (size_t b = 0; b < rows.size(); ++b)
    for (size_t j = 0; j < rows[b].size(); ++j) t[int64_t(b)][int64_t(j)] = rows[b][j];
  return t;
}

// Symmetric 3-bit rounding with one scale per vector along the last dim (token-local) ...
torch::Tensor round_per_token(const torch::Tensor& x) {
  auto scale = x.abs().amax(-1, true).clamp_min(1e-8) / 3.0;
  return torch::round(x / scale).clamp(-3, 3) * scale;
}
// ... or one scale for the whole tensor (mixes tokens).
torch::Tensor round_per_tensor(const torch::Tensor& x) {
  auto scale = x.abs().max().clamp_min(1e-8) / 3.0;
  return torch::round(x / scale).clamp(-3, 3) * scale;
}

void hook_every_site(LlamaModel& m, const ActivationHook& hook) {
  for (int64_t layer = 0; layer < m.config().num_layers; ++layer)
    for (SiteKind kind : all_site_kinds())
      if (is_activation(kind)) m.set_activation_hook(layer, kind, hook);
}

// Largest |reuse - full| over the continuation logits of each choice, prefix broadcast to all.
double max_reuse_error(const LlamaModel& m, const std::vector<int64_t>& prefix,
                       const std::vector<std::vector<int64_t>>& choices) {
  torch::NoGradGuard no_grad;
  auto pre = m.prefill(row(prefix));
  auto logits = m.forward_with_prefix(pre.cache, padded(choices));               // [B, Tc, V]
  double worst = (pre.logits - m.forward(row(prefix))).abs().max().item<double>();
  for (size_t b = 0; b < choices.size(); ++b) {
    auto full = m.forward(row(concat(prefix, choices[b]))).squeeze(0);
    auto want = full.slice(0, int64_t(prefix.size()));                           // the continuation rows
    auto got = logits[int64_t(b)].slice(0, 0, int64_t(choices[b].size()));       // padding cut off
    worst = std::max(worst, (got - want).abs().max().item<double>());
  }
  return worst;
}

const std::vector<int64_t> kPrefix = {3, 17, 42, 5, 63, 0, 8};
const std::vector<std::vector<int64_t>> kChoices = {{29, 11}, {2, 40, 7, 7, 1}, {9}};

TEST(KvCache, ReuseEqualsTheFullForwardForGqaAndMha) {
  for (int64_t kv_heads : {2, 4}) {
    auto m = make_random_model(test::tiny_llama_config(2, kv_heads), 7);
    EXPECT_LT(max_reuse_error(m, kPrefix, kChoices), 1e-5) << "Hkv=" << kv_heads;
  }
}

TEST(KvCache, ReuseIsExactWithTokenLocalHooksOnly) {
  auto m = make_random_model(test::tiny_llama_config(2, 2), 11);
  hook_every_site(m, round_per_token);
  EXPECT_LT(max_reuse_error(m, kPrefix, kChoices), 1e-5);
  // A range over the whole tensor sees the other tokens, so prefix-only and full forwards differ.
  hook_every_site(m, round_per_tensor);
  EXPECT_GT(max_reuse_error(m, kPrefix, kChoices), 1e-3);
}

TEST(KvCache, PrefixesOfDifferentLengthsInOneBatch) {
  auto m = make_random_model(test::tiny_llama_config(2, 2), 3);
  torch::NoGradGuard no_grad;
  const std::vector<std::vector<int64_t>> prefixes = {{5, 6, 7, 8, 9}, {10, 11}};
  auto pre = m.prefill(padded(prefixes), {5, 2});
  // Rows 0 and 2 follow prefix 1, row 1 prefix 0.
  const std::vector<std::vector<int64_t>> conts = {{1, 2, 3}, {4}, {12, 13}};
  const std::vector<int64_t> index = {1, 0, 1};
  auto logits = m.forward_with_prefix(pre.cache, padded(conts), index);
  for (size_t b = 0; b < conts.size(); ++b) {
    const auto& p = prefixes[size_t(index[b])];
    auto want = m.forward(row(concat(p, conts[b]))).squeeze(0).slice(0, int64_t(p.size()));
    auto got = logits[int64_t(b)].slice(0, 0, int64_t(conts[b].size()));
    EXPECT_LT((got - want).abs().max().item<double>(), 1e-5) << "row " << b;
  }
  // The shorter prefix's own logits are unaffected by its right padding.
  auto short_full = m.forward(row(prefixes[1])).squeeze(0);
  EXPECT_LT((pre.logits[1].slice(0, 0, 2) - short_full).abs().max().item<double>(), 1e-5);
}

TEST(KvCache, ErrorsNameTheMismatch) {
  auto m = make_random_model(test::tiny_llama_config(2, 2), 3);
  auto pre = m.prefill(padded({{1, 2, 3}, {4, 5}}), {3, 2});
  try {
    m.forward_with_prefix(pre.cache, padded({{6}}));
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the cache holds 2 prefixes; pass prefix_index"), std::string::npos) << e.what();
  }
  EXPECT_THROW(m.forward_with_prefix(pre.cache, padded({{6}}), {2}), Error);
  EXPECT_THROW(m.prefill(padded({{1, 2}}), {3}), Error);
}

}  // namespace
}  // namespace abq::model

// KV cache: prefill / continuation forwards of LlamaModel and the chunked decoder block.
#include "framework/model/kv_cache.h"

#include "framework/core/error.h"
#include "framework/model/llama_model.h"
#include "framework/model/rms_norm.h"

namespace abq::model {
namespace {

// Cache row of each continuation row, checked; empty `prefix_index` broadcasts a single prefix.
std::vector<int64_t> resolve_rows(const KvCache& cache, const std::vector<int64_t>& prefix_index, int64_t batch) {
  if (prefix_index.empty()) {
    if (cache.size() != 1)
      throw Error(cat("forward_with_prefix: the cache holds ", cache.size(),
                      " prefixes; pass prefix_index to say which one each of the ", batch, " rows follows"));
    return std::vector<int64_t>(static_cast<size_t>(batch), 0);
  }
  if (static_cast<int64_t>(prefix_index.size()) != batch)
    throw Error(cat("forward_with_prefix: prefix_index has ", prefix_index.size(), " entries for ", batch, " rows"));
  for (int64_t r : prefix_index)
    if (r < 0 || r >= cache.size())
      throw Error(cat("forward_with_prefix: prefix_index ", r, " is outside the cache of ", cache.size(), " prefixes"));
  return prefix_index;
}

// The per-row view of one layer's cache: [B, Hkv, P, D]; a single prefix is broadcast, not copied.
PrefixKv rows_of(const KvCache& cache, int64_t layer, const torch::Tensor& rows, const torch::Tensor& valid) {
  const auto& k = cache.keys[static_cast<size_t>(layer)];
  const auto& v = cache.values[static_cast<size_t>(layer)];
  const int64_t batch = rows.size(0);
  if (cache.size() == 1) return PrefixKv{k.expand({batch, -1, -1, -1}), v.expand({batch, -1, -1, -1}), valid};
  return PrefixKv{k.index_select(0, rows), v.index_select(0, rows), valid};
}

// Runs `f` on decoder block `layer`: the resident block, or a streamed model's block loaded for
// this call and released after it (as LlamaModel::block_forward does).
template <typename F>
torch::Tensor with_block(const LlamaModel& m, int64_t layer, F f) {
  if (!m.streamed()) return f(m.weights().layers[static_cast<size_t>(layer)]);
  torch::Tensor out;
  {
    const DecoderBlock block = m.materialize_block(layer);
    out = f(block);
  }
  m.release_block(layer);
  return out;
}

}  // namespace

torch::Tensor decoder_block_forward_chunk(const torch::Tensor& x, const DecoderBlock& block, const AttentionDims& dims,
                                          double rms_eps, const RopeTable& rope, const LayerHooks* hooks,
                                          const PrefixKv* prefix, PrefixKv* chunk_kv) {
  return decoder_block_around(x, block, rms_eps, hooks, [&](const torch::Tensor& normed) {
    return attention_forward_chunk(normed, block.q_proj, block.k_proj, block.v_proj, block.o_proj, dims, rope, hooks,
                                   prefix, chunk_kv);
  });
}

KvCache LlamaModel::prefill_hidden(const torch::Tensor& tokens, const std::vector<int64_t>& lengths,
                                   torch::Tensor* hidden) const {
  ABQ_ASSERT(hidden, "prefill_hidden needs an output tensor");
  auto x = embed(tokens);                                                        // [N, P, C]
  const int64_t rows = x.size(0), width = x.size(1);
  KvCache cache;
  cache.lengths = lengths.empty() ? std::vector<int64_t>(static_cast<size_t>(rows), width) : lengths;
  if (static_cast<int64_t>(cache.lengths.size()) != rows)
    throw Error(cat("prefill: ", cache.lengths.size(), " lengths for ", rows, " prefixes"));
  for (int64_t n : cache.lengths)
    if (n < 1 || n > width) throw Error(cat("prefill: prefix length ", n, " outside 1..", width));
  // Right padding needs no mask: causal attention keeps it away from the real positions before it.
  const auto table = rope(width, x.device(), x.scalar_type());
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const auto& hooks = hooks_[static_cast<size_t>(i)];
    PrefixKv kv;
    x = with_block(*this, i, [&](const DecoderBlock& block) {
      return decoder_block_forward_chunk(x, block, attention_dims(), config_.rms_eps, table,
                                         hooks.empty() ? nullptr : &hooks, nullptr, &kv);
    });
    cache.keys.push_back(kv.k);
    cache.values.push_back(kv.v);
  }
  *hidden = rms_norm(x, weights_.norm, config_.rms_eps);
  return cache;
}

PrefillResult LlamaModel::prefill(const torch::Tensor& tokens, const std::vector<int64_t>& lengths) const {
  torch::Tensor hidden;
  KvCache cache = prefill_hidden(tokens, lengths, &hidden);
  return PrefillResult{std::move(cache), lm_head(hidden)};
}

torch::Tensor LlamaModel::final_hidden_with_prefix(const KvCache& cache, const torch::Tensor& tokens,
                                                   const std::vector<int64_t>& prefix_index) const {
  if (static_cast<int64_t>(cache.keys.size()) != config_.num_layers)
    throw Error(cat("forward_with_prefix: the cache holds ", cache.keys.size(), " layers, the model ",
                    config_.num_layers));
  auto x = embed(tokens);                                                        // [B, Tc, C]
  const int64_t batch = x.size(0), width = x.size(1), cached = cache.max_length();
  const auto rows = resolve_rows(cache, prefix_index, batch);
  // Row b's tokens sit at positions length..length+Tc-1 and see only the first `length` cached ones.
  auto offsets = torch::empty({batch, 1}, torch::kLong);
  auto valid = torch::empty({batch, cached}, torch::kBool);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t n = cache.lengths[static_cast<size_t>(rows[static_cast<size_t>(b)])];
    offsets[b][0] = n;
    valid[b] = torch::arange(cached).lt(n);
  }
  const auto positions = offsets + torch::arange(width, torch::kLong).unsqueeze(0);   // [B, Tc]
  const auto table = rope_at_positions(rope(cached + width, x.device(), x.scalar_type()), positions);
  const auto row_index = torch::tensor(rows, torch::kLong).to(x.device());
  const auto valid_dev = valid.to(x.device());
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const auto& hooks = hooks_[static_cast<size_t>(i)];
    const PrefixKv prefix = rows_of(cache, i, row_index, valid_dev);
    x = with_block(*this, i, [&](const DecoderBlock& block) {
      return decoder_block_forward_chunk(x, block, attention_dims(), config_.rms_eps, table,
                                         hooks.empty() ? nullptr : &hooks, &prefix, nullptr);
    });
  }
  return rms_norm(x, weights_.norm, config_.rms_eps);
}

torch::Tensor LlamaModel::forward_with_prefix(const KvCache& cache, const torch::Tensor& tokens,
                                              const std::vector<int64_t>& prefix_index) const {
  return lm_head(final_hidden_with_prefix(cache, tokens, prefix_index));
}

}  // namespace abq::model

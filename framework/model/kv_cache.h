// KV cache for scoring several continuations of one shared prefix: the prefix runs once, every
// layer keeps its keys / values (after RoPE and the k / v hooks, exactly what attention read), and
// continuations then run against them at positions that follow the prefix. Used by multiple-choice
// scoring, where every choice of a question shares the context.
//
// Exactness: a continuation's logits equal those of the full sequence only when every activation
// hook is token-local (its output for a token depends on that token alone: per-token or per-group
// dynamic ranges, or any static range). Dynamic per-tensor / per-head / per-channel ranges mix
// tokens, so the prefix alone quantizes differently from prefix + continuation; the caller decides.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "framework/model/activation_hooks.h"
#include "framework/model/attention.h"
#include "framework/model/decoder_block.h"
#include "framework/model/rope.h"

namespace abq::model {

/// N prefixes, right-padded to a common length P.
struct KvCache {
  std::vector<torch::Tensor> keys;    // per layer [N, Hkv, P, D], after RoPE and the k hook
  std::vector<torch::Tensor> values;  // per layer [N, Hkv, P, D], after the v hook
  std::vector<int64_t> lengths;       // [N] real tokens of each prefix; positions >= length are padding

  int64_t size() const { return static_cast<int64_t>(lengths.size()); }
  int64_t max_length() const { return keys.empty() ? 0 : keys.front().size(2); }
};

/// decoder_block_forward for a chunk of tokens (see attention_forward_chunk): x [B, T, C] ->
/// [B, T, C], attending to `prefix` when given; `chunk_kv` receives this chunk's keys / values.
/// Mirrors decoder_block_forward (norms, online transforms, residuals) step for step.
torch::Tensor decoder_block_forward_chunk(const torch::Tensor& x, const DecoderBlock& block, const AttentionDims& dims,
                                          double rms_eps, const RopeTable& rope, const LayerHooks* hooks,
                                          const PrefixKv* prefix, PrefixKv* chunk_kv);

/// LlamaModel::prefill's result: the cache and the logits of every prefix position [N, P, V].
struct PrefillResult {
  KvCache cache;
  torch::Tensor logits;
};

}  // namespace abq::model

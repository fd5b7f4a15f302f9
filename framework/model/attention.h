// Causal self-attention with grouped-query heads (GQA), as in HF LlamaAttention (eager path):
// project, RoPE on Q and K, repeat each KV head for its H/Hkv query heads, explicit softmax
// (so the probabilities can be returned), project out.
#pragma once

#include <torch/torch.h>

#include "framework/model/activation_hooks.h"
#include "framework/model/linear.h"
#include "framework/model/rope.h"

namespace abq::model {

struct AttentionDims {
  int64_t num_heads = 0;     // H
  int64_t num_kv_heads = 0;  // Hkv; H % Hkv == 0
  int64_t head_dim = 0;      // D
};

/// Scaled dot-product attention with a causal mask.
/// q [B, H, T, D], k / v [B, Hkv, T, D] -> [B, H, T, D]. Query head h reads KV head h / (H / Hkv).
/// When `probs` is given it receives the attention probabilities [B, H, T, T].
/// Half-precision softmax runs in fp32 and is cast back (matches HF eager attention).
torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               torch::Tensor* probs = nullptr);

/// The attention sub-layer of a block: x [B, T, C] (already normalised) -> [B, T, C].
/// Hooks (may be null) apply at each projection's input and at Q / K (after RoPE) and V (as
/// projected), both before the GQA repeat.
torch::Tensor attention_forward(const torch::Tensor& x, const Linear& q_proj, const Linear& k_proj,
                                const Linear& v_proj, const Linear& o_proj, const AttentionDims& dims,
                                const RopeTable& rope, const LayerHooks* hooks = nullptr,
                                torch::Tensor* probs = nullptr);

/// Keys / values of earlier tokens that a chunk of new tokens attends to besides itself (a cached
/// prefix), one row per batch row.
struct PrefixKv {
  torch::Tensor k;      // [B, Hkv, P, D], after RoPE and the k hook
  torch::Tensor v;      // [B, Hkv, P, D], after the v hook
  torch::Tensor valid;  // [B, P] bool: false at the right padding of a shorter prefix
};

/// Attention of T new tokens that follow a prefix: query t attends to every valid prefix position
/// and to chunk positions 0..t. q [B, H, T, D], k / v [B, Hkv, T, D] -> [B, H, T, D]. Same
/// arithmetic as causal_attention over the concatenated sequence.
torch::Tensor prefix_causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                      const PrefixKv& prefix);

/// attention_forward for a chunk of tokens at explicit positions (`rope` from rope_at_positions, or a
/// plain [T, D] table for positions 0..T-1) that attends to `prefix` when given (nullptr: causal
/// over the chunk alone). Hooks apply at the same sites as in attention_forward. `chunk_kv`, when
/// given, receives this chunk's keys / values after RoPE and hooks (what a KV cache stores).
torch::Tensor attention_forward_chunk(const torch::Tensor& x, const Linear& q_proj, const Linear& k_proj,
                                      const Linear& v_proj, const Linear& o_proj, const AttentionDims& dims,
                                      const RopeTable& rope, const LayerHooks* hooks, const PrefixKv* prefix,
                                      PrefixKv* chunk_kv);

}  // namespace abq::model

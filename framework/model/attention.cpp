#include "framework/model/attention.h"

#include <cmath>
#include <limits>

#include "framework/core/error.h"

namespace abq::model {
namespace {

torch::Tensor hooked(const LayerHooks* hooks, SiteKind kind, const torch::Tensor& x) {
  return hooks ? hooks->apply(kind, x) : x;
}

// [B, Hkv, T, D] -> [B, Hkv * groups, T, D], KV head j copied to heads j*groups .. j*groups+groups-1.
torch::Tensor repeat_kv(const torch::Tensor& x, int64_t groups) {
  if (groups == 1) return x;
  return x.repeat_interleave(groups, /*dim=*/1);
}

// Probabilities over the last dim with `blocked` entries at -inf; half-precision scores are
// normalised in fp32 and cast back (HF eager attention).
torch::Tensor masked_softmax(torch::Tensor scores, const torch::Tensor& blocked) {
  scores = scores.masked_fill(blocked, -std::numeric_limits<double>::infinity());
  const auto dtype = scores.scalar_type();
  const bool reduced = dtype == torch::kHalf || dtype == torch::kBFloat16;
  return reduced ? torch::softmax(scores, -1, torch::kFloat32).to(dtype) : torch::softmax(scores, -1);
}

struct Projected {
  torch::Tensor q, k, v;  // [B, H, T, D], [B, Hkv, T, D], [B, Hkv, T, D], after RoPE and their hooks
};

// The projections, RoPE and hooks every attention path applies, in one order.
Projected project_qkv(const torch::Tensor& x, const Linear& q_proj, const Linear& k_proj, const Linear& v_proj,
                      const AttentionDims& dims, const RopeTable& rope, const LayerHooks* hooks) {
  const int64_t batch = x.size(0), num_tokens = x.size(1), D = dims.head_dim;
  // [B, T, heads*D] -> [B, heads, T, D]
  auto heads = [&](const torch::Tensor& t, int64_t n) { return t.view({batch, num_tokens, n, D}).transpose(1, 2); };
  auto q = heads(linear_forward(hooked(hooks, SiteKind::q_proj_input, x), q_proj), dims.num_heads);
  auto k = heads(linear_forward(hooked(hooks, SiteKind::k_proj_input, x), k_proj), dims.num_kv_heads);
  auto v = heads(linear_forward(hooked(hooks, SiteKind::v_proj_input, x), v_proj), dims.num_kv_heads);
  return {hooked(hooks, SiteKind::attn_q, apply_rope(q, rope)), hooked(hooks, SiteKind::attn_k, apply_rope(k, rope)),
          hooked(hooks, SiteKind::attn_v, v)};
}

// [B, H, T, D] attention output -> o_proj (with its input hook) -> [B, T, C].
torch::Tensor project_out(const torch::Tensor& out, const Linear& o_proj, const LayerHooks* hooks) {
  const int64_t batch = out.size(0), num_tokens = out.size(2);
  auto flat = out.transpose(1, 2).reshape({batch, num_tokens, out.size(1) * out.size(3)});  // [B, T, H*D]
  return linear_forward(hooked(hooks, SiteKind::o_proj_input, flat), o_proj);
}

}  // namespace

torch::Tensor causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               torch::Tensor* probs) {
  ABQ_ASSERT(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "attention expects [B, heads, T, D]");
  const int64_t num_heads = q.size(1), num_kv_heads = k.size(1);
  const int64_t num_tokens = q.size(2), head_dim = q.size(3);
  ABQ_ASSERT(num_heads % num_kv_heads == 0, "H=", num_heads, " not a multiple of Hkv=", num_kv_heads);
  const int64_t groups = num_heads / num_kv_heads;
  auto k_full = repeat_kv(k, groups);                                            // [B, H, T, D]
  auto v_full = repeat_kv(v, groups);                                            // [B, H, T, D]

  auto scores = torch::matmul(q, k_full.transpose(-2, -1)) / std::sqrt(static_cast<double>(head_dim));
  // Causal mask: token t attends to tokens 0..t. [T, T], true above the diagonal.
  auto mask = torch::ones({num_tokens, num_tokens}, torch::TensorOptions().dtype(torch::kBool).device(q.device()))
                  .triu(1);
  auto p = masked_softmax(scores, mask);                                          // [B, H, T, T]
  if (probs) *probs = p;
  return torch::matmul(p, v_full);                                               // [B, H, T, D]
}

torch::Tensor attention_forward(const torch::Tensor& x, const Linear& q_proj, const Linear& k_proj,
                                const Linear& v_proj, const Linear& o_proj, const AttentionDims& dims,
                                const RopeTable& rope, const LayerHooks* hooks, torch::Tensor* probs) {
  const auto p = project_qkv(x, q_proj, k_proj, v_proj, dims, rope, hooks);
  return project_out(causal_attention(p.q, p.k, p.v, probs), o_proj, hooks);
}

torch::Tensor prefix_causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                      const PrefixKv& prefix) {
  ABQ_ASSERT(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "attention expects [B, heads, T, D]");
  ABQ_ASSERT(prefix.k.dim() == 4 && prefix.k.size(0) == q.size(0) && prefix.k.size(1) == k.size(1) &&
                 prefix.k.size(3) == k.size(3),
             "prefix keys must be [B, Hkv, P, D] matching the chunk's keys");
  const int64_t num_heads = q.size(1), num_kv_heads = k.size(1);
  const int64_t num_tokens = q.size(2), head_dim = q.size(3), num_prefix = prefix.k.size(2);
  ABQ_ASSERT(num_heads % num_kv_heads == 0, "H=", num_heads, " not a multiple of Hkv=", num_kv_heads);
  const int64_t groups = num_heads / num_kv_heads;
  auto k_full = repeat_kv(torch::cat({prefix.k, k}, /*dim=*/2), groups);          // [B, H, P+T, D]
  auto v_full = repeat_kv(torch::cat({prefix.v, v}, /*dim=*/2), groups);          // [B, H, P+T, D]

  auto scores = torch::matmul(q, k_full.transpose(-2, -1)) / std::sqrt(static_cast<double>(head_dim));
  // Blocked: padded prefix positions, and later chunk tokens (causal). [B, 1, T, P+T]
  auto opts = torch::TensorOptions().dtype(torch::kBool).device(q.device());
  auto prefix_blocked = prefix.valid.to(q.device()).logical_not().view({q.size(0), 1, 1, num_prefix})
                            .expand({q.size(0), 1, num_tokens, num_prefix});
  auto chunk_blocked = torch::ones({num_tokens, num_tokens}, opts).triu(1).expand({q.size(0), 1, num_tokens, num_tokens});
  auto mask = torch::cat({prefix_blocked, chunk_blocked}, /*dim=*/-1);
  auto p = masked_softmax(scores, mask);                                          // [B, H, T, P+T]
  return torch::matmul(p, v_full);                                               // [B, H, T, D]
}

torch::Tensor attention_forward_chunk(const torch::Tensor& x, const Linear& q_proj, const Linear& k_proj,
                                      const Linear& v_proj, const Linear& o_proj, const AttentionDims& dims,
                                      const RopeTable& rope, const LayerHooks* hooks, const PrefixKv* prefix,
                                      PrefixKv* chunk_kv) {
  const auto p = project_qkv(x, q_proj, k_proj, v_proj, dims, rope, hooks);
  if (chunk_kv) *chunk_kv = PrefixKv{p.k, p.v, torch::Tensor()};
  return project_out(prefix ? prefix_causal_attention(p.q, p.k, p.v, *prefix) : causal_attention(p.q, p.k, p.v),
                     o_proj, hooks);
}

}  // namespace abq::model

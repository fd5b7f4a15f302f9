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
  scores = scores.masked_fill(mask, -std::numeric_limits<double>::infinity());   // [B, H, T, T]
  const bool reduced = q.scalar_type() == torch::kHalf || q.scalar_type() == torch::kBFloat16;
  auto p = reduced ? torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type()) : torch::softmax(scores, -1);
  if (probs) *probs = p;
  return torch::matmul(p, v_full);                                               // [B, H, T, D]
}

torch::Tensor attention_forward(const torch::Tensor& x, const Linear& q_proj, const Linear& k_proj,
                                const Linear& v_proj, const Linear& o_proj, const AttentionDims& dims,
                                const RopeTable& rope, const LayerHooks* hooks, torch::Tensor* probs) {
  const int64_t batch = x.size(0), num_tokens = x.size(1);
  const int64_t H = dims.num_heads, Hkv = dims.num_kv_heads, D = dims.head_dim;

  // [B, T, heads*D] -> [B, heads, T, D]
  auto heads = [&](const torch::Tensor& t, int64_t n) { return t.view({batch, num_tokens, n, D}).transpose(1, 2); };
  auto q = heads(linear_forward(hooked(hooks, SiteKind::q_proj_input, x), q_proj), H);
  auto k = heads(linear_forward(hooked(hooks, SiteKind::k_proj_input, x), k_proj), Hkv);
  auto v = heads(linear_forward(hooked(hooks, SiteKind::v_proj_input, x), v_proj), Hkv);

  q = hooked(hooks, SiteKind::attn_q, apply_rope(q, rope));                      // [B, H, T, D]
  k = hooked(hooks, SiteKind::attn_k, apply_rope(k, rope));                      // [B, Hkv, T, D]
  v = hooked(hooks, SiteKind::attn_v, v);                                        // [B, Hkv, T, D]

  auto out = causal_attention(q, k, v, probs);                                   // [B, H, T, D]
  out = out.transpose(1, 2).reshape({batch, num_tokens, H * D});                 // [B, T, H*D]
  return linear_forward(hooked(hooks, SiteKind::o_proj_input, out), o_proj);     // [B, T, C]
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
  scores = scores.masked_fill(mask, -std::numeric_limits<double>::infinity());   // [B, H, T, P+T]
  const bool reduced = q.scalar_type() == torch::kHalf || q.scalar_type() == torch::kBFloat16;
  auto p = reduced ? torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type()) : torch::softmax(scores, -1);
  return torch::matmul(p, v_full);                                               // [B, H, T, D]
}

torch::Tensor attention_forward_chunk(const torch::Tensor& x, const Linear& q_proj, const Linear& k_proj,
                                      const Linear& v_proj, const Linear& o_proj, const AttentionDims& dims,
                                      const RopeTable& rope, const LayerHooks* hooks, const PrefixKv* prefix,
                                      PrefixKv* chunk_kv) {
  const int64_t batch = x.size(0), num_tokens = x.size(1);
  const int64_t H = dims.num_heads, Hkv = dims.num_kv_heads, D = dims.head_dim;
  // Same projections, RoPE and hook order as attention_forward.
  auto heads = [&](const torch::Tensor& t, int64_t n) { return t.view({batch, num_tokens, n, D}).transpose(1, 2); };
  auto q = heads(linear_forward(hooked(hooks, SiteKind::q_proj_input, x), q_proj), H);
  auto k = heads(linear_forward(hooked(hooks, SiteKind::k_proj_input, x), k_proj), Hkv);
  auto v = heads(linear_forward(hooked(hooks, SiteKind::v_proj_input, x), v_proj), Hkv);

  q = hooked(hooks, SiteKind::attn_q, apply_rope(q, rope));                      // [B, H, T, D]
  k = hooked(hooks, SiteKind::attn_k, apply_rope(k, rope));                      // [B, Hkv, T, D]
  v = hooked(hooks, SiteKind::attn_v, v);                                        // [B, Hkv, T, D]
  if (chunk_kv) *chunk_kv = PrefixKv{k, v, torch::Tensor()};

  auto out = prefix ? prefix_causal_attention(q, k, v, *prefix) : causal_attention(q, k, v);
  out = out.transpose(1, 2).reshape({batch, num_tokens, H * D});                 // [B, T, H*D]
  return linear_forward(hooked(hooks, SiteKind::o_proj_input, out), o_proj);     // [B, T, C]
}

}  // namespace abq::model

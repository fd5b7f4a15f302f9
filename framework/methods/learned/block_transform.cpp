#include "framework/methods/learned/block_transform.h"

#include "framework/core/error.h"

namespace abq::methods {
namespace {

using model::Linear;

torch::Tensor leaf(const torch::Tensor& t) { return t.detach().to(torch::kFloat32).clone().set_requires_grad(true); }

// s = max(a^α / w^(1-α), 1e-5), a and w clamped at 1e-5 first (ABQ-LLM abq_llm.py, LET init).
torch::Tensor smoothing_init(const torch::Tensor& act_absmax, const torch::Tensor& weight, double alpha) {
  auto a = act_absmax.to(torch::kFloat32).clamp_min(1e-5);
  auto w = weight.detach().to(torch::kFloat32).abs().amax(0).clamp_min(1e-5);  // per input column
  return (a.pow(alpha) / w.pow(1.0 - alpha)).clamp_min(1e-5);
}

// [Hkv·D] -> [H·D]: KV head j's entries repeated for its G query heads (repeat_kv's order).
torch::Tensor expand_over_groups(const torch::Tensor& s, const model::AttentionDims& d) {
  const int64_t groups = d.num_heads / d.num_kv_heads;
  return s.view({d.num_kv_heads, 1, d.head_dim}).expand({d.num_kv_heads, groups, d.head_dim}).reshape({-1});
}

// [Hkv, D, D] -> [H, D, D] in the same order.
torch::Tensor expand_heads(const torch::Tensor& m, const model::AttentionDims& d) {
  return m.repeat_interleave(d.num_heads / d.num_kv_heads, 0);
}

torch::Tensor scale_rows(const torch::Tensor& t, const torch::Tensor& s) {  // weight [O, I] or bias [O]
  if (!t.defined()) return t;
  return t.dim() == 1 ? t * s : t * s.unsqueeze(1);
}

torch::Tensor divide_rows(const torch::Tensor& t, const torch::Tensor& s) {
  if (!t.defined()) return t;
  return t.dim() == 1 ? t / s : t / s.unsqueeze(1);
}

void scale_columns(Linear& l, const torch::Tensor& s) { l.weight = l.weight * s.unsqueeze(0); }

// b + W·δ: keeps the linear's output when its input is shifted by −δ (W before any scaling).
torch::Tensor absorb_shift(const Linear& l, const torch::Tensor& delta) {
  auto moved = torch::matmul(l.weight, delta);
  return l.bias.defined() ? l.bias + moved : moved;
}

torch::Tensor minus(const torch::Tensor& bias, const torch::Tensor& delta) { return bias.defined() ? bias - delta : -delta; }

// The norm-side slots of one pair: the norm weight, its input bias and the online transform.
struct NormSide {
  torch::Tensor& weight;
  torch::Tensor& bias;
  torch::Tensor& online;
};

// Norm ÷ s (its input bias too) and the linears' columns × s, or with a matrix: W·Mᵀ and x·M⁻¹
// online. A shift δ first moves the normed activation by −δ and the linears' biases by W·δ.
// When the block already has an online transform T there (a rotation), the linears read x·T, so the
// pair acts after T: T ← T·M⁻¹ (M = diag(s) or A⊙mask) and the input bias moves by −δ·T⁻¹.
void apply_norm_pair(NormSide norm, std::vector<Linear*> linears, const torch::Tensor& s, const torch::Tensor& a,
                     const torch::Tensor& mask, const torch::Tensor& delta) {
  if (!a.defined() && !s.defined()) return;
  const bool after_transform = norm.online.defined();
  if (delta.defined()) {
    for (Linear* l : linears) l->bias = absorb_shift(*l, delta);
    norm.bias = minus(norm.bias, after_transform ? torch::matmul(delta, torch::inverse(norm.online)) : delta);
  }
  if (a.defined()) {
    auto m = a * mask;
    for (Linear* l : linears) l->weight = torch::matmul(l->weight, m.t());
    // Applied after the input bias, so the bias is not transformed.
    norm.online = after_transform ? torch::matmul(norm.online, torch::inverse(m)) : torch::inverse(m);
  } else {
    if (after_transform) {
      norm.online = norm.online / s.unsqueeze(0);
    } else {
      norm.weight = norm.weight / s;
      if (norm.bias.defined()) norm.bias = norm.bias / s;
    }
    for (Linear* l : linears) scale_columns(*l, s);
  }
}

// Per-head matrix products on a linear's rows: rows of head h ← M_h·W_h (M [heads, D, D]).
void head_rows(Linear& l, const torch::Tensor& m) {
  const int64_t heads = m.size(0), d = m.size(1);
  l.weight = torch::matmul(m, l.weight.view({heads, d, -1})).reshape({heads * d, -1});
  if (l.bias.defined()) l.bias = torch::matmul(m, l.bias.view({heads, d, 1})).reshape({-1});
}

void apply_out_pair(model::DecoderBlock& b, const TransformParams& p, const AffineMasks& masks,
                    const model::AttentionDims& d) {
  if (p.shift_out.defined()) {  // before o's columns are scaled; v's bias then goes through v's row transform
    b.o_proj.bias = absorb_shift(b.o_proj, expand_over_groups(p.shift_out, d));
    b.v_proj.bias = minus(b.v_proj.bias, p.shift_out);
  }
  if (p.a_out.defined()) {
    auto m = p.a_out * masks.head;                                   // [Hkv, D, D]
    head_rows(b.v_proj, torch::inverse(m).transpose(1, 2));          // v ← v·M⁻¹
    auto full = expand_heads(m, d);                                  // [H, D, D]
    auto wo = b.o_proj.weight.view({b.o_proj.weight.size(0), d.num_heads, d.head_dim});
    b.o_proj.weight = torch::einsum("chd,hed->che", {wo, full}).reshape({b.o_proj.weight.size(0), -1});
  } else if (p.s_out.defined()) {
    b.v_proj.weight = divide_rows(b.v_proj.weight, p.s_out);
    b.v_proj.bias = divide_rows(b.v_proj.bias, p.s_out);
    scale_columns(b.o_proj, expand_over_groups(p.s_out, d));
  }
}

void apply_qk_pair(model::DecoderBlock& b, const TransformParams& p, const AffineMasks& masks,
                   const model::AttentionDims& d) {
  if (p.a_qk.defined()) {
    auto m = p.a_qk * masks.head;                                    // [Hkv, D, D]
    head_rows(b.k_proj, m);
    head_rows(b.q_proj, expand_heads(torch::inverse(m).transpose(1, 2), d));
  } else if (p.s_qkt.defined()) {
    b.k_proj.weight = scale_rows(b.k_proj.weight, p.s_qkt);
    b.k_proj.bias = scale_rows(b.k_proj.bias, p.s_qkt);
    auto q_scale = expand_over_groups(p.s_qkt, d);
    b.q_proj.weight = divide_rows(b.q_proj.weight, q_scale);
    b.q_proj.bias = divide_rows(b.q_proj.bias, q_scale);
  }
}

}  // namespace

std::vector<torch::Tensor> TransformParams::let_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& t : {s_qkv, s_fc1, s_out, s_qkt, s_fc2, a_qkv, a_fc1, a_out, a_qk, shift_qkv, shift_fc1, shift_out})
    if (t.defined()) out.push_back(t);
  return out;
}

std::vector<torch::Tensor> TransformParams::compensation_parameters() const {
  if (!comp_left.defined()) return {};
  return {comp_left, comp_right};
}

std::vector<std::pair<std::string, torch::Tensor>> TransformParams::named() const {
  std::vector<std::pair<std::string, torch::Tensor>> all = {
      {"s_qkv", s_qkv}, {"s_fc1", s_fc1}, {"s_out", s_out}, {"s_qkt", s_qkt}, {"s_fc2", s_fc2},
      {"a_qkv", a_qkv}, {"a_fc1", a_fc1}, {"a_out", a_out}, {"a_qk", a_qk},
      {"shift_qkv", shift_qkv}, {"shift_fc1", shift_fc1}, {"shift_out", shift_out},
      {"comp_left", comp_left}, {"comp_right", comp_right}};
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& [name, t] : all)
    if (t.defined()) out.emplace_back(name, t);
  return out;
}

std::vector<torch::Tensor*> TransformParams::slots() {
  return {&s_qkv, &s_fc1, &s_out, &s_qkt, &s_fc2, &a_qkv, &a_fc1, &a_out, &a_qk,
          &shift_qkv, &shift_fc1, &shift_out, &comp_left, &comp_right};
}

TransformParams init_transform(const model::DecoderBlock& fp, const ActivationAbsMax& act,
                               const model::AttentionDims& d, const LearnedOptions& o, bool with_compensation) {
  TransformParams p;
  const auto& pairs = o.pairs;
  const auto& affine = o.affine;
  auto zero_shift = [&](int64_t n) { return o.shifts ? leaf(torch::zeros({n})) : torch::Tensor(); };
  if (o.let) {
    const int64_t hidden = fp.input_norm.size(0);
    if (pairs.qkv || affine.ln_matrix) {
      auto s = smoothing_init(act.q_proj_input, fp.q_proj.weight, o.alpha);
      if (affine.ln_matrix) p.a_qkv = leaf(torch::diag(s)); else p.s_qkv = leaf(s);
      p.shift_qkv = zero_shift(hidden);
    }
    if (pairs.fc1 || affine.ln_matrix) {
      auto s = smoothing_init(act.up_proj_input, fp.up_proj.weight, o.alpha);
      if (affine.ln_matrix) p.a_fc1 = leaf(torch::diag(s)); else p.s_fc1 = leaf(s);
      p.shift_fc1 = zero_shift(hidden);
    }
    if (pairs.out || affine.out_matrix) {
      auto s = smoothing_init(act.o_proj_input, fp.o_proj.weight, o.alpha);  // [H·D]
      const int64_t groups = d.num_heads / d.num_kv_heads;
      s = s.view({d.num_kv_heads, groups, d.head_dim}).select(1, 0).reshape({-1});  // group 0 per KV head
      if (affine.out_matrix) p.a_out = leaf(torch::diag_embed(s.view({d.num_kv_heads, d.head_dim})));
      else p.s_out = leaf(s);
      p.shift_out = zero_shift(d.num_kv_heads * d.head_dim);
    }
    if (pairs.qkt || affine.qk_matrix) {
      if (affine.qk_matrix)
        p.a_qk = leaf(torch::eye(d.head_dim).expand({d.num_kv_heads, d.head_dim, d.head_dim}));
      else
        p.s_qkt = leaf(torch::ones({d.num_kv_heads * d.head_dim}));
    }
    if (pairs.fc2) p.s_fc2 = leaf(smoothing_init(act.down_proj_input, fp.down_proj.weight, o.alpha));
  }
  if (with_compensation) {
    p.comp_left = leaf(torch::zeros({fp.down_proj.weight.size(0), 1}));
    p.comp_right = leaf(torch::ones({1, fp.down_proj.weight.size(1)}));
  }
  return p;
}

torch::Tensor band_mask(int64_t n, int64_t epoch, int64_t epochs, double sf, bool gradual) {
  ABQ_ASSERT(n > 0 && epochs > 0 && epoch >= 0 && epoch < epochs, "band_mask(n=", n, ", epoch=", epoch, "/", epochs, ")");
  int64_t width = n;  // diagonals kept on each side, counting the main one
  if (gradual && epochs > 1) width = (n - 1) * epoch / (epochs - 1) + 1;
  auto i = torch::arange(n, torch::kInt64);
  auto dist = (i.unsqueeze(1) - i.unsqueeze(0)).abs();
  auto mask = torch::zeros({n, n});
  mask.masked_fill_(dist.lt(width), sf);
  mask.fill_diagonal_(1.0);
  return mask;
}

AffineMasks affine_masks(const model::AttentionDims& d, int64_t hidden, int64_t epoch, int64_t epochs,
                         const AffineOptions& o) {
  AffineMasks m;
  if (o.ln_matrix) m.hidden = band_mask(hidden, epoch, epochs, o.stability_factor, o.gradual_mask);
  if (o.out_matrix || o.qk_matrix) m.head = band_mask(d.head_dim, epoch, epochs, o.stability_factor, o.gradual_mask);
  return m;
}

void truncate_scales(TransformParams& p) {
  torch::NoGradGuard no_grad;
  for (auto* s : {&p.s_qkv, &p.s_fc1, &p.s_out, &p.s_qkt, &p.s_fc2}) {
    if (!s->defined()) continue;
    auto small = s->abs().lt(1e-2);
    s->copy_(torch::where(small, s->sign() * 1e-2, *s));
  }
}

model::DecoderBlock transform_block(const model::DecoderBlock& fp, const TransformParams& p, const AffineMasks& masks,
                                    const model::AttentionDims& d) {
  model::DecoderBlock b = fp;
  apply_norm_pair({b.input_norm, b.attn_input_bias, b.attn_input_transform}, {&b.q_proj, &b.k_proj, &b.v_proj},
                  p.s_qkv, p.a_qkv, masks.hidden, p.shift_qkv);
  apply_norm_pair({b.post_attention_norm, b.mlp_input_bias, b.mlp_input_transform}, {&b.gate_proj, &b.up_proj},
                  p.s_fc1, p.a_fc1, masks.hidden, p.shift_fc1);
  apply_out_pair(b, p, masks, d);
  apply_qk_pair(b, p, masks, d);
  if (p.s_fc2.defined()) {  // with an online down transform T, down reads h·T: T's columns ÷ s, not up's rows
    if (b.down_input_transform.defined()) {
      b.down_input_transform = b.down_input_transform / p.s_fc2.unsqueeze(0);
    } else {
      b.up_proj.weight = divide_rows(b.up_proj.weight, p.s_fc2);
      b.up_proj.bias = divide_rows(b.up_proj.bias, p.s_fc2);
    }
    scale_columns(b.down_proj, p.s_fc2);
  }
  if (p.comp_left.defined()) b.down_proj.weight = b.down_proj.weight + torch::matmul(p.comp_left, p.comp_right);
  return b;
}

}  // namespace abq::methods

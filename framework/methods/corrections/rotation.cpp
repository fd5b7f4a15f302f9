#include "framework/methods/corrections/rotation.h"

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/methods/corrections/hadamard.h"

namespace abq::methods {
namespace {

using model::Linear;

// Every rewrite computes in float64 and stores back in the tensor's own dtype.
torch::Tensor f64(const torch::Tensor& t) { return t.to(torch::kFloat64); }

void set(torch::Tensor& slot, const torch::Tensor& value) { slot = value.to(slot.scalar_type()); }

// Input side: y = x·Wᵀ reads x·M instead of x when W ← W·M.
void rotate_input(Linear& l, const torch::Tensor& m) { set(l.weight, f64(l.weight).matmul(m)); }

// Output side: y ← y·M, i.e. W ← Mᵀ·W and b ← b·M.
void rotate_output(Linear& l, const torch::Tensor& m) {
  set(l.weight, m.t().matmul(f64(l.weight)));
  if (l.bias.defined()) set(l.bias, f64(l.bias).matmul(m));
}

// A norm weight w [C] read by `linears`, or by an online transform T (x·diag(w)·T, T ← diag(w)·T).
void fold_norm(torch::Tensor& norm, torch::Tensor& transform, const std::vector<Linear*>& linears) {
  const auto w = f64(norm);
  if (transform.defined()) {
    set(transform, w.unsqueeze(1) * f64(transform));
  } else {
    for (Linear* l : linears) set(l->weight, f64(l->weight) * w.unsqueeze(0));
  }
  norm = torch::ones_like(norm);
}

// The rotated residual x·Q reaches `linears` through a unit-weight RMSNorm, which commutes with Q.
void rotate_norm_readers(torch::Tensor& transform, const std::vector<Linear*>& linears, const torch::Tensor& q) {
  if (transform.defined()) {
    set(transform, q.t().matmul(f64(transform)));
  } else {
    for (Linear* l : linears) rotate_input(*l, q);
  }
}

// Per-head V ← V·H: v_proj rows [Hkv·D, C] and bias; o_proj columns [C, H·D] per head.
void rotate_values(Linear& v, Linear& o, const torch::Tensor& h, const model::AttentionDims& dims) {
  const int64_t d = dims.head_dim;
  const auto vw = f64(v.weight).reshape({dims.num_kv_heads, d, -1});  // [Hkv, D, C]
  set(v.weight, torch::matmul(h.t(), vw).reshape({dims.num_kv_heads * d, -1}));
  if (v.bias.defined()) set(v.bias, f64(v.bias).reshape({dims.num_kv_heads, d}).matmul(h).reshape({-1}));
  const auto ow = f64(o.weight).reshape({o.weight.size(0), dims.num_heads, d});  // [C, H, D]
  set(o.weight, ow.matmul(h).reshape({o.weight.size(0), dims.num_heads * d}));
}

// A tied lm_head becomes its own copy, with tie_embeddings off (the model checks the tie).
void untie_lm_head(model::LlamaModel& model) {
  if (!model.config().tie_embeddings) return;
  auto config = model.config();
  config.tie_embeddings = false;
  const auto hooks = model.activation_hooks();
  auto weights = model.weights();
  weights.lm_head = weights.embed_tokens.clone();
  model = model::LlamaModel(config, std::move(weights));
  model.set_activation_hooks(hooks);
}

// Fused: fold the norms, rotate the residual stream (embed, o/down outputs, lm_head) by q.
void rotate_residual_fused(model::LlamaModel& model, const torch::Tensor& q) {
  fold_rms_norms(model);
  auto& w = model.weights();
  set(w.embed_tokens, f64(w.embed_tokens).matmul(q));
  set(w.lm_head, f64(w.lm_head).matmul(q));
  for (auto& b : w.layers) {
    rotate_norm_readers(b.attn_input_transform, {&b.q_proj, &b.k_proj, &b.v_proj}, q);
    rotate_output(b.o_proj, q);
    rotate_norm_readers(b.mlp_input_transform, {&b.gate_proj, &b.up_proj}, q);
    rotate_output(b.down_proj, q);
  }
}

// Online: x ← x·T·q after each norm and W ← W·q for its readers; (x·T·q)·(W·q)ᵀ = x·T·Wᵀ.
void rotate_norm_outputs_online(model::LlamaModel& model, const torch::Tensor& q) {
  const auto q_stored = q.to(model.dtype());  // one storage shared by every block without a transform
  auto rotate_after_norm = [&](torch::Tensor& transform, const std::vector<Linear*>& readers) {
    transform = transform.defined() ? f64(transform).matmul(q).to(transform.scalar_type()) : q_stored;
    for (Linear* l : readers) rotate_input(*l, q);
  };
  for (auto& b : model.weights().layers) {
    rotate_after_norm(b.attn_input_transform, {&b.q_proj, &b.k_proj, &b.v_proj});
    rotate_after_norm(b.mlp_input_transform, {&b.gate_proj, &b.up_proj});
  }
}

}  // namespace

void fold_rms_norms(model::LlamaModel& model) {
  torch::NoGradGuard no_grad;
  untie_lm_head(model);
  auto& w = model.weights();
  for (auto& b : w.layers) {
    fold_norm(b.input_norm, b.attn_input_transform, {&b.q_proj, &b.k_proj, &b.v_proj});
    fold_norm(b.post_attention_norm, b.mlp_input_transform, {&b.gate_proj, &b.up_proj});
  }
  set(w.lm_head, f64(w.lm_head) * f64(w.norm).unsqueeze(0));
  w.norm = torch::ones_like(w.norm);
  model.check_weights();
}

void Rotation::run(model::LlamaModel& model, const std::vector<torch::Tensor>& /*calibration_tokens*/,
                   const WeightSpecs& /*weight_specs*/) {
  torch::NoGradGuard no_grad;
  try {
    for (size_t i = 0; i < model.weights().layers.size(); ++i) {
      const auto& b = model.weights().layers[i];
      if (b.attn_input_bias.defined() || b.mlp_input_bias.defined())
        throw Error(cat("layer ", i, " has norm input biases (learned activation shifts); a rotation must come "
                        "before them, not after"));
    }
    const auto c = model.config();  // a copy: the fused path rebuilds the model when it unties lm_head
    const auto device = model.device();
    residual_ = hadamard_rotation(c.hidden_size, options_.seed, /*random_signs=*/true);
    const auto q = residual_.to(device);
    if (options_.residual == ResidualRotation::fused) {
      rotate_residual_fused(model, q);
    } else {
      rotate_norm_outputs_online(model, q);
    }
    const auto h_head = options_.rotate_ov ? hadamard_rotation(c.head_dim, options_.seed + 1, false).to(device)
                                           : torch::Tensor();
    torch::Tensor q_f, q_f_stored;  // q_f_stored: one tensor (one storage) for every layer's down_input_transform
    if (options_.online_down) {
      q_f = hadamard_rotation(c.intermediate_size, options_.seed + 2, false).to(device);
      q_f_stored = q_f.to(model.dtype());
    }

    auto& w = model.weights();
    const auto dims = model.attention_dims();
    for (auto& b : w.layers) {
      if (options_.rotate_ov) rotate_values(b.v_proj, b.o_proj, h_head, dims);
      if (options_.online_down) {
        rotate_input(b.down_proj, q_f);
        b.down_input_transform = b.down_input_transform.defined()
                                     ? f64(b.down_input_transform).matmul(q_f).to(model.dtype())
                                     : q_f_stored;
      }
    }
    model.check_weights();
    log_debug("rotation: residual ", c.hidden_size,
              options_.residual == ResidualRotation::fused ? " (fused)" : " (online after each norm)",
              ", rotate_ov ", options_.rotate_ov, ", online_down ", options_.online_down, ", seed ", options_.seed);
  } catch (Error& e) {
    e.with_context("while applying rotation");
    throw;
  }
}

const config::OptionSet<RotationOptions>& rotation_options() {
  using config::Schema;
  static const auto set =
      config::OptionSet<RotationOptions>()
          .field("seed", &RotationOptions::seed, Schema::integer().range(0, int64_t(1) << 62).doc("random signs of the residual rotation"))
          .enumeration("residual", &RotationOptions::residual,
                       {{"fused", ResidualRotation::fused}, {"online", ResidualRotation::online}},
                       "fused: fold the norm weights and rotate the residual stream (QuaRot, free at run time); "
                       "online: keep the norm weights and rotate each norm output by a [C, C] matmul per token")
          .field("online_down", &RotationOptions::online_down, Schema::boolean().doc("rotate the down_proj input online by a Hadamard"))
          .field("rotate_ov", &RotationOptions::rotate_ov, Schema::boolean().doc("per-head Hadamard between v_proj and o_proj"));
  return set;
}

}  // namespace abq::methods

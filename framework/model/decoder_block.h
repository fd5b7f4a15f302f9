// One LLaMA decoder block (pre-norm): h = x + attn(rms(x)); out = h + mlp(rms(h)).
#pragma once

#include <vector>

#include <torch/torch.h>

#include "framework/model/activation_hooks.h"
#include "framework/model/attention.h"
#include "framework/model/linear.h"
#include "framework/model/mlp.h"
#include "framework/model/rms_norm.h"
#include "framework/model/rope.h"

namespace abq::model {

struct DecoderBlock {
  torch::Tensor input_norm;           // [C]  input_layernorm.weight
  torch::Tensor post_attention_norm;  // [C]  post_attention_layernorm.weight
  Linear q_proj;                      // [H*D, C], bias [H*D] (Qwen2) or undefined
  Linear k_proj;                      // [Hkv*D, C]
  Linear v_proj;                      // [Hkv*D, C]
  Linear o_proj;                      // [C, H*D]
  Linear gate_proj;                   // [F, C]
  Linear up_proj;                     // [F, C]
  Linear down_proj;                   // [C, F]
  // Online transforms, undefined = none: the activation is right-multiplied, x <- x·T, before the
  // hooks and linears that read it. AffineQuant's norm-side matrices (they cannot fold into an
  // RMSNorm weight) and rotations' online Hadamard live here; each costs one matmul per token.
  torch::Tensor attn_input_transform;  // [C, C] after input_norm, read by q/k/v
  torch::Tensor mlp_input_transform;   // [C, C] after post_attention_norm, read by gate/up
  torch::Tensor down_input_transform;  // [F, F] on silu(gate)·up, read by down_proj
  // Norm input biases, undefined = none: added to the normed activation before its online
  // transform, x <- (x + b)·T. AffineQuant's shifts need them (an RMSNorm has no bias to absorb
  // −δ/s) and the activation quantizers must see the shifted activation, so they stay separate.
  torch::Tensor attn_input_bias;  // [C] after input_norm
  torch::Tensor mlp_input_bias;   // [C] after post_attention_norm

  /// The linear named by `kind` (mutable, e.g. for corrections that rewrite weights).
  Linear& linear(LinearKind kind);
  const Linear& linear(LinearKind kind) const;
};

/// Every tensor slot of the block, defined or not: norms, online transforms, norm input biases, and
/// each linear's weight and bias. Code that copies, casts or moves a whole block goes through these,
/// so a new field is added in one place.
std::vector<torch::Tensor*> tensor_slots(DecoderBlock& block);

/// A copy of `block` with `f` applied to every defined tensor (undefined ones stay undefined).
template <typename F>
DecoderBlock map_tensors(const DecoderBlock& block, F&& f) {
  DecoderBlock out = block;
  for (torch::Tensor* t : tensor_slots(out))
    if (t->defined()) *t = f(*t);
  return out;
}

/// x [B, T, C] -> [B, T, C]. `rope` must hold T positions; hooks may be null. When `attn_probs` is
/// given it receives the attention probabilities [B, H, T, T] (calibration losses on attention maps).
torch::Tensor decoder_block_forward(const torch::Tensor& x, const DecoderBlock& block,
                                    const AttentionDims& dims, double rms_eps, const RopeTable& rope,
                                    const LayerHooks* hooks = nullptr, torch::Tensor* attn_probs = nullptr);

/// The pre-norm block around any attention: `attend(normed x) -> [B, T, C]`. decoder_block_forward
/// and the KV-cache chunk forward (kv_cache.h) both use it, so norms, input biases, online
/// transforms, residuals and the MLP are written once.
template <typename Attend>
torch::Tensor decoder_block_around(const torch::Tensor& x, const DecoderBlock& block, double rms_eps,
                                   const LayerHooks* hooks, Attend&& attend) {
  auto transformed = [](const torch::Tensor& t, const torch::Tensor& m) { return m.defined() ? torch::matmul(t, m) : t; };
  auto shifted = [](const torch::Tensor& t, const torch::Tensor& b) { return b.defined() ? t + b : t; };
  auto h = x + attend(transformed(shifted(rms_norm(x, block.input_norm, rms_eps), block.attn_input_bias),
                                  block.attn_input_transform));
  auto mlp_in = transformed(shifted(rms_norm(h, block.post_attention_norm, rms_eps), block.mlp_input_bias),
                            block.mlp_input_transform);
  return h + mlp_forward(mlp_in, block.gate_proj, block.up_proj, block.down_proj, hooks, block.down_input_transform);
}

}  // namespace abq::model

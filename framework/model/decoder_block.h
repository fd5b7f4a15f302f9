// One LLaMA decoder block (pre-norm): h = x + attn(rms(x)); out = h + mlp(rms(h)).
#pragma once

#include <torch/torch.h>

#include "framework/model/activation_hooks.h"
#include "framework/model/attention.h"
#include "framework/model/linear.h"
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

  /// The linear named by `kind` (mutable, e.g. for corrections that rewrite weights).
  Linear& linear(LinearKind kind);
  const Linear& linear(LinearKind kind) const;
};

/// x [B, T, C] -> [B, T, C]. `rope` must hold T positions; hooks may be null.
torch::Tensor decoder_block_forward(const torch::Tensor& x, const DecoderBlock& block,
                                    const AttentionDims& dims, double rms_eps, const RopeTable& rope,
                                    const LayerHooks* hooks = nullptr);

}  // namespace abq::model

#include "framework/model/decoder_block.h"

#include "framework/core/error.h"
#include "framework/model/mlp.h"
#include "framework/model/rms_norm.h"

namespace abq::model {

Linear& DecoderBlock::linear(LinearKind kind) {
  return const_cast<Linear&>(static_cast<const DecoderBlock&>(*this).linear(kind));
}

const Linear& DecoderBlock::linear(LinearKind kind) const {
  switch (kind) {
    case LinearKind::q_proj: return q_proj;
    case LinearKind::k_proj: return k_proj;
    case LinearKind::v_proj: return v_proj;
    case LinearKind::o_proj: return o_proj;
    case LinearKind::gate_proj: return gate_proj;
    case LinearKind::up_proj: return up_proj;
    case LinearKind::down_proj: return down_proj;
  }
  ABQ_ASSERT(false, "unknown LinearKind ", static_cast<int>(kind));
  return q_proj;
}

torch::Tensor decoder_block_forward(const torch::Tensor& x, const DecoderBlock& block,
                                    const AttentionDims& dims, double rms_eps, const RopeTable& rope,
                                    const LayerHooks* hooks, torch::Tensor* attn_probs) {
  auto transformed = [](const torch::Tensor& t, const torch::Tensor& m) { return m.defined() ? torch::matmul(t, m) : t; };
  auto attn_in = transformed(rms_norm(x, block.input_norm, rms_eps), block.attn_input_transform);
  auto h = x + attention_forward(attn_in, block.q_proj, block.k_proj, block.v_proj, block.o_proj, dims,
                                 rope, hooks, attn_probs);
  auto mlp_in = transformed(rms_norm(h, block.post_attention_norm, rms_eps), block.mlp_input_transform);
  return h + mlp_forward(mlp_in, block.gate_proj, block.up_proj, block.down_proj, hooks, block.down_input_transform);
}

}  // namespace abq::model

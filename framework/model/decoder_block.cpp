#include "framework/model/decoder_block.h"

#include "framework/core/error.h"

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

std::vector<torch::Tensor*> tensor_slots(DecoderBlock& b) {
  std::vector<torch::Tensor*> out = {&b.input_norm,          &b.post_attention_norm, &b.attn_input_transform,
                                     &b.mlp_input_transform, &b.down_input_transform, &b.attn_input_bias,
                                     &b.mlp_input_bias};
  for (LinearKind kind : all_linear_kinds()) {
    out.push_back(&b.linear(kind).weight);
    out.push_back(&b.linear(kind).bias);
  }
  return out;
}

torch::Tensor decoder_block_forward(const torch::Tensor& x, const DecoderBlock& block,
                                    const AttentionDims& dims, double rms_eps, const RopeTable& rope,
                                    const LayerHooks* hooks, torch::Tensor* attn_probs) {
  return decoder_block_around(x, block, rms_eps, hooks, [&](const torch::Tensor& normed) {
    return attention_forward(normed, block.q_proj, block.k_proj, block.v_proj, block.o_proj, dims, rope, hooks,
                             attn_probs);
  });
}

}  // namespace abq::model

// SwiGLU feed-forward (Shazeer 2020) as in LLaMA: down(silu(gate(x)) * up(x)).
#pragma once

#include <torch/torch.h>

#include "framework/model/activation_hooks.h"
#include "framework/model/linear.h"

namespace abq::model {

/// x [B, T, C] (already normalised) -> [B, T, C]; the hidden product is [B, T, F].
/// Hooks (may be null) apply at the gate / up / down inputs; down_input_transform (undefined = none)
/// right-multiplies the hidden product before down_proj's hook.
torch::Tensor mlp_forward(const torch::Tensor& x, const Linear& gate_proj, const Linear& up_proj,
                          const Linear& down_proj, const LayerHooks* hooks = nullptr,
                          const torch::Tensor& down_input_transform = {});

}  // namespace abq::model

#include "framework/model/mlp.h"

namespace abq::model {

torch::Tensor mlp_forward(const torch::Tensor& x, const Linear& gate_proj, const Linear& up_proj,
                          const Linear& down_proj, const LayerHooks* hooks,
                          const torch::Tensor& down_input_transform) {
  auto at = [&](SiteKind kind, const torch::Tensor& t) { return hooks ? hooks->apply(kind, t) : t; };
  auto gate = linear_forward(at(SiteKind::gate_proj_input, x), gate_proj);       // [B, T, F]
  auto up = linear_forward(at(SiteKind::up_proj_input, x), up_proj);             // [B, T, F]
  auto hidden = torch::silu(gate) * up;                                          // [B, T, F]
  if (down_input_transform.defined()) hidden = torch::matmul(hidden, down_input_transform);
  return linear_forward(at(SiteKind::down_proj_input, hidden), down_proj);       // [B, T, C]
}

}  // namespace abq::model

#include "framework/methods/corrections/activation_stats.h"

#include "framework/core/error.h"

namespace abq::methods {
namespace {

// Restores the model's hooks when it leaves scope.
class HookSnapshot {
 public:
  explicit HookSnapshot(model::LlamaModel& m) : model_(m), saved_(m.activation_hooks()) {}
  ~HookSnapshot() { model_.set_activation_hooks(std::move(saved_)); }
  HookSnapshot(const HookSnapshot&) = delete;
  HookSnapshot& operator=(const HookSnapshot&) = delete;

 private:
  model::LlamaModel& model_;
  std::vector<model::LayerHooks> saved_;
};

}  // namespace

std::map<std::string, torch::Tensor> collect_input_absmax(model::LlamaModel& model,
                                                          const std::vector<torch::Tensor>& calibration_tokens) {
  if (calibration_tokens.empty())
    throw Error("collecting activation statistics: no calibration batches were given");
  const int64_t num_layers = model.config().num_layers;
  // Indexed [layer][linear]; filled by the observers, keyed by site name at the end.
  std::vector<std::vector<torch::Tensor>> absmax(static_cast<size_t>(num_layers),
                                                 std::vector<torch::Tensor>(model::kNumLinearKinds));
  HookSnapshot restore(model);
  model.clear_activation_hooks();
  for (int64_t layer = 0; layer < num_layers; ++layer) {
    for (model::LinearKind linear : model::all_linear_kinds()) {
      torch::Tensor& slot = absmax[static_cast<size_t>(layer)][static_cast<size_t>(linear)];
      model.set_activation_hook(layer, model::input_site(linear), [&slot](const torch::Tensor& x) {
        // x [B, T, in] -> per-channel max |x| over all tokens, kept in fp32.
        auto batch_max = x.detach().abs().reshape({-1, x.size(-1)}).amax(0).to(torch::kFloat32);
        slot = slot.defined() ? torch::maximum(slot, batch_max) : batch_max;
        return x;
      });
    }
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < calibration_tokens.size(); ++i) {
    const auto& tokens = calibration_tokens[i];
    if (!tokens.defined() || tokens.dim() != 2)
      throw Error(cat("calibration batch ", i, " must be a [B, T] token tensor, got ",
                      tokens.defined() ? std::to_string(tokens.dim()) + " dimensions" : "an undefined tensor"));
    // The final norm and lm_head do not feed any linear input site; stop after the last block.
    auto x = model.embed(tokens);
    for (int64_t layer = 0; layer < num_layers; ++layer) x = model.block_forward(layer, x);
  }
  std::map<std::string, torch::Tensor> out;
  for (int64_t layer = 0; layer < num_layers; ++layer)
    for (model::LinearKind linear : model::all_linear_kinds())
      out[model::site_name(layer, model::input_site(linear))] =
          absmax[static_cast<size_t>(layer)][static_cast<size_t>(linear)];
  return out;
}

}  // namespace abq::methods

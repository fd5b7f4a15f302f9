#include "framework/calib/block_passes.h"

#include "framework/quant/fake_quant.h"

namespace abq::calib {
namespace {

using model::SiteKind;

// An observer hook keeping the running per-channel max|x| (over every dim but the last).
model::ActivationHook absmax_observer(torch::Tensor* running) {
  return [running](const torch::Tensor& x) {
    auto m = x.detach().abs().reshape({-1, x.size(-1)}).amax(0).to(torch::kFloat32);
    *running = running->defined() ? torch::maximum(*running, m) : m;
    return x;
  };
}

// The model's block `layer` without the model's hooks: `hooks` (observers) and `probs` optional.
torch::Tensor fp_block_pass(const model::LlamaModel& model, int64_t layer, const torch::Tensor& x,
                            const model::LayerHooks* hooks, torch::Tensor* probs) {
  const auto rope = model.rope(x.size(1), x.device(), x.scalar_type());
  return model::decoder_block_forward(x, model.weights().layers[size_t(layer)], model.attention_dims(),
                                      model.config().rms_eps, rope, hooks, probs);
}

}  // namespace

std::vector<torch::Tensor> run_block(const model::LlamaModel& model, int64_t layer, const std::vector<torch::Tensor>& xs,
                                     const torch::Device& stream_device) {
  std::vector<torch::Tensor> ys;
  ys.reserve(xs.size());
  for (const auto& x : xs) ys.push_back(model.block_forward(layer, x.to(model.device())).to(stream_device));
  return ys;
}

model::LayerHooks activation_quantizers(int64_t layer, const SpecForSite& spec_for_site) {
  model::LayerHooks hooks;
  for (SiteKind kind : model::all_site_kinds()) {
    if (model::is_weight(kind)) continue;
    const auto spec = spec_for_site(model::site_name(layer, kind));
    if (!spec.enabled()) continue;
    hooks.at[size_t(kind)] = [spec](const torch::Tensor& x) { return quant::fake_quant(x, spec).fake; };
  }
  return hooks;
}

void set_layer_hooks(model::LlamaModel& model, int64_t layer, const model::LayerHooks& hooks) {
  auto all = model.activation_hooks();
  all[size_t(layer)] = hooks;
  model.set_activation_hooks(std::move(all));
}

std::vector<torch::Tensor> fp_block_outputs(const model::LlamaModel& model, int64_t layer,
                                            const std::vector<torch::Tensor>& xs, const torch::Device& stream_device) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> ys;
  ys.reserve(xs.size());
  for (const auto& x : xs) ys.push_back(fp_block_pass(model, layer, x.to(model.device()), nullptr, nullptr).to(stream_device));
  return ys;
}

Teacher teacher_passes(const model::LlamaModel& model, int64_t layer, const Streams& streams, const TeacherNeeds& needs,
                       const torch::Device& stream_device) {
  torch::NoGradGuard no_grad;
  Teacher t;
  model::LayerHooks observers;
  if (needs.input_absmax) {
    observers.at[size_t(SiteKind::q_proj_input)] = absmax_observer(&t.absmax.q_proj_input);
    observers.at[size_t(SiteKind::up_proj_input)] = absmax_observer(&t.absmax.up_proj_input);
    observers.at[size_t(SiteKind::o_proj_input)] = absmax_observer(&t.absmax.o_proj_input);
    observers.at[size_t(SiteKind::down_proj_input)] = absmax_observer(&t.absmax.down_proj_input);
  }
  const model::LayerHooks* hooks = observers.empty() ? nullptr : &observers;
  for (const auto& x : streams.fp) {
    torch::Tensor probs;
    auto y = fp_block_pass(model, layer, x.to(model.device()), hooks, needs.attention ? &probs : nullptr);
    t.y_fp.push_back(y.to(stream_device));
    if (needs.attention) t.attn_fp.push_back(probs.to(torch::kFloat32).mean(1).to(stream_device));
  }
  if (needs.fp_on_quantized) t.y_fp2 = fp_block_outputs(model, layer, streams.q, stream_device);
  return t;
}

}  // namespace abq::calib

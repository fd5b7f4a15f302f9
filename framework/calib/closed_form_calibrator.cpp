#include "framework/calib/closed_form_calibrator.h"

#include <map>

#include "framework/calib/block_passes.h"
#include "framework/calib/hessian.h"
#include "framework/core/error.h"
#include "framework/quant/error_metrics.h"

namespace abq::calib {
namespace {

using model::LinearKind;

std::vector<std::vector<LinearKind>> stages(bool true_sequential) {
  if (!true_sequential) return {model::all_linear_kinds()};
  return {{LinearKind::q_proj, LinearKind::k_proj, LinearKind::v_proj},
          {LinearKind::o_proj},
          {LinearKind::gate_proj, LinearKind::up_proj},
          {LinearKind::down_proj}};
}

// Input Hessians of `linears` on X_q: observer hooks wrap the model's own hooks at their input
// sites (so an activation quantizer's output is what the Hessian sees), one pass, hooks restored.
std::map<LinearKind, torch::Tensor> collect_hessians(model::LlamaModel& model, int64_t layer,
                                                     const std::vector<LinearKind>& linears,
                                                     const std::vector<torch::Tensor>& x_q,
                                                     const torch::Device& stream_device) {
  std::map<LinearKind, HessianAccumulator> acc;
  {
    RestoreHooks restore(model);
    for (LinearKind kind : linears) {
      const auto site = model::input_site(kind);
      auto inner = restore.saved()[size_t(layer)].at[size_t(site)];
      model.set_activation_hook(layer, site, [inner, h = &acc[kind]](const torch::Tensor& x) {
        auto seen = inner ? inner(x) : x;  // [B, T, in]
        h->add(seen);
        return seen;
      });
    }
    run_block(model, layer, x_q, stream_device);
  }
  std::map<LinearKind, torch::Tensor> out;
  for (auto& [kind, h] : acc) out[kind] = h.hessian();
  return out;
}

// The linears of `stage` whose spec is enabled.
std::vector<LinearKind> active_linears(const std::vector<LinearKind>& stage, int64_t layer, const SpecForSite& spec_for_site) {
  std::vector<LinearKind> active;
  for (LinearKind kind : stage)
    if (spec_for_site(model::site_name(layer, model::weight_site(kind))).enabled()) active.push_back(kind);
  return active;
}

}  // namespace

ClosedFormCalibrator::ClosedFormCalibrator(methods::WeightQuantizer& quantizer, bool true_sequential)
    : quantizer_(quantizer), true_sequential_(true_sequential) {}

ClosedFormCalibrator::ClosedFormCalibrator(std::unique_ptr<methods::WeightQuantizer> quantizer, bool true_sequential)
    : owned_(std::move(quantizer)), quantizer_(*owned_), true_sequential_(true_sequential) {}

// The quantizer's name and the stage order, then every weight site's spec. (Quantizer options are
// the caller's: one checkpoint directory per run.)
void ClosedFormCalibrator::add_to_fingerprint(Sha256& h, const model::LlamaModel& model,
                                              const SpecForSite& spec_for_site) const {
  h.update(cat("quantizer ", quantizer_.name(), " true_sequential ", true_sequential_, "\n"));
  for (int64_t layer = 0; layer < model.config().num_layers; ++layer)
    for (LinearKind kind : model::all_linear_kinds()) {
      const auto site = model::site_name(layer, model::weight_site(kind));
      h.update(site + " " + quant::describe(spec_for_site(site)) + "\n");
    }
}

// Stage by stage: Hessians → quantizer → bake into the model; on a numerical failure the block is
// left half-baked with `problem` set (the loop restores it from the fp copy).
BlockResult ClosedFormCalibrator::calibrate(const BlockTask& task) {
  torch::NoGradGuard no_grad;
  BlockResult out;
  out.method = quantizer_.name();
  const int64_t layer = task.layer;
  auto& block = task.model.weights().layers[size_t(layer)];
  for (const auto& stage : stages(true_sequential_)) {
    const auto active = active_linears(stage, layer, task.spec_for_site);
    if (active.empty()) continue;
    const auto hessians = collect_hessians(task.model, layer, active, task.streams.q, task.stream_device);
    for (LinearKind kind : active) {
      methods::WeightContext ctx;
      ctx.site = model::site_name(layer, model::weight_site(kind));
      ctx.hessian = hessians.at(kind);
      const auto spec = task.spec_for_site(ctx.site);
      auto& linear = block.linear(kind);
      methods::WeightQuantResult result;
      try {
        result = quantizer_.quantize(linear.weight, spec, ctx);
      } catch (const c10::Error& e) {  // numerical failure inside LibTorch (e.g. Cholesky of a singular H)
        out.problem = cat(ctx.site, ": ", quantizer_.name(), " failed: ", e.what_without_backtrace());
        return out;
      }
      if (!torch::isfinite(result.fake_weight).all().item<bool>()) {
        out.problem = cat(ctx.site, ": non-finite values in the quantized weight");
        return out;
      }
      out.sites.push_back({ctx.site, spec, quantizer_.name(), quant::mse(linear.weight, result.fake_weight),
                           quant::sqnr_db(linear.weight, result.fake_weight),
                           layer_output_loss(linear.weight, result.fake_weight, ctx.hessian)});
      // The codes of this quantizer's own result (GPTQ's sequential update, awq_clip's clipped
      // grid), not a re-rounding of the fake weight, which another grid could round differently.
      linear.packed = task.pack ? (*task.pack)(spec, result) : nullptr;
      linear.weight = result.fake_weight.to(linear.weight.scalar_type());  // bake
    }
  }
  out.baked = block;
  return out;
}

}  // namespace abq::calib

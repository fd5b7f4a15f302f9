#include "framework/calib/calibrate_blockwise.h"

#include <chrono>
#include <map>
#include <sstream>

#include "framework/calib/block_checkpoint.h"
#include "framework/calib/hessian.h"
#include "framework/calib/stream_ops.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/sha256.h"
#include "framework/methods/quantizers/rtn.h"
#include "framework/quant/error_metrics.h"

namespace abq::calib {
namespace {

using model::LinearKind;

// ---- helpers, each one step of the recipe below

// Identifies a run for resuming: model dims and weights, quantizer, every weight site's spec,
// options that change the result, and the calibration tokens. (Quantizer options are the
// caller's: one checkpoint directory per run.)
std::string run_fingerprint(const model::LlamaModel& model, const SpecForSite& spec_for_site,
                            const methods::WeightQuantizer& quantizer, const std::vector<torch::Tensor>& calibration,
                            const CalibOptions& options) {
  Sha256 h;
  hash_model_and_tokens(h, model, calibration, options);
  h.update(cat("quantizer ", quantizer.name(), " true_sequential ", options.true_sequential, "\n"));
  for (int64_t layer = 0; layer < model.config().num_layers; ++layer)
    for (LinearKind kind : model::all_linear_kinds()) {
      const auto site = model::site_name(layer, model::weight_site(kind));
      h.update(site + " " + quant::describe(spec_for_site(site)) + "\n");
    }
  return h.hex_digest();
}

// Puts the model's activation hooks back when a pass ends, also when it throws (observer hooks
// point at accumulators that die with the pass).
class RestoreHooks {
 public:
  explicit RestoreHooks(model::LlamaModel& model) : model_(model), hooks_(model.activation_hooks()) {}
  ~RestoreHooks() { model_.set_activation_hooks(hooks_); }
  const std::vector<model::LayerHooks>& saved() const { return hooks_; }

 private:
  model::LlamaModel& model_;
  std::vector<model::LayerHooks> hooks_;
};

// One block over every window, with whatever hooks the model holds now.
std::vector<torch::Tensor> run_block(const model::LlamaModel& model, int64_t layer, const std::vector<torch::Tensor>& xs,
                                     const torch::Device& stream_device) {
  std::vector<torch::Tensor> ys;
  ys.reserve(xs.size());
  for (const auto& x : xs) ys.push_back(model.block_forward(layer, x.to(model.device())).to(stream_device));
  return ys;
}

// The same pass with activation hooks off: the fp teacher.
std::vector<torch::Tensor> run_block_fp(model::LlamaModel& model, int64_t layer, const std::vector<torch::Tensor>& xs,
                                        const torch::Device& stream_device) {
  RestoreHooks restore(model);
  model.clear_activation_hooks();
  return run_block(model, layer, xs, stream_device);
}

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

// One try at quantizing block `layer`: stage by stage, Hessians → quantizer → bake; then X_q through
// the baked block. `problem` is set (and the block left half-baked) on a numerical failure.
struct BlockAttempt {
  std::vector<SiteStats> sites;
  std::vector<torch::Tensor> next_q;
  std::string problem;
};

BlockAttempt quantize_block(model::LlamaModel& model, int64_t layer, const SpecForSite& spec_for_site,
                            methods::WeightQuantizer& quantizer, const std::vector<torch::Tensor>& x_q,
                            const CalibOptions& options, const torch::Device& stream_device) {
  BlockAttempt out;
  auto& block = model.weights().layers[size_t(layer)];
  for (const auto& stage : stages(options.true_sequential)) {
    std::vector<LinearKind> active;
    for (LinearKind kind : stage)
      if (spec_for_site(model::site_name(layer, model::weight_site(kind))).enabled()) active.push_back(kind);
    if (active.empty()) continue;
    const auto hessians = collect_hessians(model, layer, active, x_q, stream_device);
    for (LinearKind kind : active) {
      methods::WeightContext ctx;
      ctx.site = model::site_name(layer, model::weight_site(kind));
      ctx.hessian = hessians.at(kind);
      const auto spec = spec_for_site(ctx.site);
      auto& linear = block.linear(kind);
      methods::WeightQuantResult result;
      try {
        result = quantizer.quantize(linear.weight, spec, ctx);
      } catch (const c10::Error& e) {  // numerical failure inside LibTorch (e.g. Cholesky of a singular H)
        out.problem = cat(ctx.site, ": ", quantizer.name(), " failed: ", e.what_without_backtrace());
        return out;
      }
      if (!torch::isfinite(result.fake_weight).all().item<bool>()) {
        out.problem = cat(ctx.site, ": non-finite values in the quantized weight");
        return out;
      }
      out.sites.push_back({ctx.site, spec, quantizer.name(), quant::mse(linear.weight, result.fake_weight),
                           quant::sqnr_db(linear.weight, result.fake_weight),
                           layer_output_loss(linear.weight, result.fake_weight, ctx.hessian)});
      linear.weight = result.fake_weight.to(linear.weight.scalar_type());  // bake
    }
  }
  out.next_q = run_block(model, layer, x_q, stream_device);
  if (!all_finite(out.next_q)) out.problem = cat("layers.", layer, ": non-finite values in the quantized block's output");
  return out;
}

}  // namespace

// ---- the recipe

CalibrationReport calibrate_blockwise(model::LlamaModel& model, const SpecForSite& spec_for_site,
                                      methods::WeightQuantizer& quantizer, const std::vector<torch::Tensor>& calibration,
                                      const CalibOptions& options) {
  torch::NoGradGuard no_grad;
  check_calibration(calibration);
  const int64_t num_layers = model.config().num_layers;
  const torch::Device stream_device = options.streams_on_host ? torch::Device(torch::kCPU) : model.device();
  const std::string fingerprint = run_fingerprint(model, spec_for_site, quantizer, calibration, options);
  methods::RtnQuantizer fallback;

  // 1. Inputs of block 0 for every window, or the state after the last committed block.
  ResumeState state = resume_or_start(model, calibration, fingerprint, options, stream_device);
  CalibrationReport& report = state.report;
  Streams& streams = state.streams;
  const int64_t first_block = state.next_block;

  for (int64_t layer = first_block; layer < num_layers; ++layer) {
    const auto started = std::chrono::steady_clock::now();
    const model::DecoderBlock fp_block = clone_block(model.weights().layers[size_t(layer)]);  // to restart the block

    // 2. Teacher passes with the fp block: X_fp → next X_fp, and X_q → X_fp2 (the block's own error).
    auto next_fp = run_block_fp(model, layer, streams.fp, stream_device);
    if (!all_finite(next_fp))
      throw Error(cat("the floating-point model itself produces non-finite activations at block ", layer,
                      "; check the checkpoint and the model dtype (float16 overflow?)"));
    std::vector<torch::Tensor> fp_on_q;
    if (options.measure_local_error) fp_on_q = run_block_fp(model, layer, streams.q, stream_device);

    // 3. Hessians from X_q, quantize, bake; a non-finite result restarts the block with RTN.
    auto attempt = quantize_block(model, layer, spec_for_site, quantizer, streams.q, options, stream_device);
    if (!attempt.problem.empty()) {
      log_warn("calibration: block ", layer, ": ", attempt.problem, "; restarting the block from its fp weights with ",
               fallback.name());
      report.fallbacks.push_back({layer, quantizer.name(), fallback.name(), attempt.problem});
      model.weights().layers[size_t(layer)] = fp_block;
      attempt = quantize_block(model, layer, spec_for_site, fallback, streams.q, options, stream_device);
      if (!attempt.problem.empty())
        throw Error(cat("calibration of block ", layer, " failed with ", quantizer.name(), " and with the ",
                        fallback.name(), " fallback: ", attempt.problem, "; refusing to produce a broken model"));
    }
    model.check_weights();

    // 4. Advance both streams and record the statistics.
    BlockStats stats;
    stats.block = layer;
    stats.output_mse = mean_squared_error(attempt.next_q, next_fp);
    if (options.measure_local_error) stats.local_mse = mean_squared_error(attempt.next_q, fp_on_q);
    streams.q = std::move(attempt.next_q);
    streams.fp = std::move(next_fp);
    report.sites.insert(report.sites.end(), attempt.sites.begin(), attempt.sites.end());
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report.blocks.push_back(stats);
    log_info("calibration: block ", layer, "/", num_layers, " done in ", stats.seconds, " s, output mse ",
             stats.output_mse, ", local mse ", stats.local_mse);

    // 5. Commit the block, so a killed run resumes at the next one.
    if (!commit_block(options, fingerprint, layer, model, streams, report)) return std::move(report);
  }
  report.completed = true;
  return std::move(report);
}

}  // namespace abq::calib

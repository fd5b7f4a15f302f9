#include "framework/calib/calibrate_learned.h"

#include <chrono>
#include <cmath>

#include "framework/calib/stream_ops.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/methods/learned/block_trainer.h"
#include "framework/quant/error_metrics.h"
#include "framework/quant/fake_quant.h"

namespace abq::calib {
namespace {

using model::LinearKind;
using model::SiteKind;

std::string run_fingerprint(const model::LlamaModel& model, const SpecForSite& spec_for_site,
                            const methods::LearnedOptions& learned, const std::vector<torch::Tensor>& calibration,
                            const CalibOptions& options) {
  Sha256 h;
  hash_model_and_tokens(h, model, calibration, options);
  h.update("learned " + methods::describe(learned) + "\n");
  for (int64_t layer = 0; layer < model.config().num_layers; ++layer)
    for (SiteKind kind : model::all_site_kinds()) {
      const auto site = model::site_name(layer, kind);
      h.update(site + " " + quant::describe(spec_for_site(site)) + "\n");
    }
  return h.hex_digest();
}

// Dynamic fake quantizers at the layer's activation and KV sites (differentiable: STE rounding).
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

struct Teacher {
  std::vector<torch::Tensor> y_fp;     // fp block on X_fp
  std::vector<torch::Tensor> attn_fp;  // its head-mean attention [B, T, T] (attention_kl only)
  std::vector<torch::Tensor> y_fp2;    // fp block on X_q (aug_mse, dlc, local error)
  methods::ActivationAbsMax absmax;    // per-channel max|x| at the LET key layers' inputs, from X_fp
};

// An observer hook keeping the running per-channel max|x| (over every dim but the last).
model::ActivationHook absmax_observer(torch::Tensor* running) {
  return [running](const torch::Tensor& x) {
    auto m = x.detach().abs().reshape({-1, x.size(-1)}).amax(0).to(torch::kFloat32);
    *running = running->defined() ? torch::maximum(*running, m) : m;
    return x;
  };
}

torch::Tensor fp_block_pass(const model::LlamaModel& model, int64_t layer, const torch::Tensor& x,
                            const model::LayerHooks* hooks, torch::Tensor* probs) {
  const auto rope = model.rope(x.size(1), x.device(), x.scalar_type());
  return model::decoder_block_forward(x, model.weights().layers[size_t(layer)], model.attention_dims(),
                                      model.config().rms_eps, rope, hooks, probs);
}

Teacher teacher_passes(const model::LlamaModel& model, int64_t layer, const Streams& streams, bool need_attention,
                       bool need_fp2, const torch::Device& stream_device) {
  torch::NoGradGuard no_grad;
  Teacher t;
  model::LayerHooks observers;
  observers.at[size_t(SiteKind::q_proj_input)] = absmax_observer(&t.absmax.q_proj_input);
  observers.at[size_t(SiteKind::up_proj_input)] = absmax_observer(&t.absmax.up_proj_input);
  observers.at[size_t(SiteKind::o_proj_input)] = absmax_observer(&t.absmax.o_proj_input);
  observers.at[size_t(SiteKind::down_proj_input)] = absmax_observer(&t.absmax.down_proj_input);
  for (const auto& x : streams.fp) {
    torch::Tensor probs;
    auto y = fp_block_pass(model, layer, x.to(model.device()), &observers, need_attention ? &probs : nullptr);
    t.y_fp.push_back(y.to(stream_device));
    if (need_attention) t.attn_fp.push_back(probs.to(torch::kFloat32).mean(1).to(stream_device));
  }
  if (need_fp2)
    for (const auto& x : streams.q) t.y_fp2.push_back(fp_block_pass(model, layer, x.to(model.device()), nullptr, nullptr).to(stream_device));
  return t;
}

// Windows [first, first + count) concatenated on the batch dim, on `device`.
torch::Tensor batch_of(const std::vector<torch::Tensor>& xs, size_t first, size_t count, const torch::Device& device) {
  if (xs.empty()) return {};
  std::vector<torch::Tensor> parts(xs.begin() + long(first), xs.begin() + long(std::min(xs.size(), first + count)));
  return torch::cat(parts, 0).to(device);
}

methods::BlockSetup block_setup(const model::LlamaModel& model, int64_t layer, const SpecForSite& spec_for_site,
                                const methods::LearnedOptions& learned, const Teacher& teacher, int64_t tokens) {
  const int64_t L = model.config().num_layers;
  methods::BlockSetup s;
  s.dims = model.attention_dims();
  s.rms_eps = model.config().rms_eps;
  s.rope = model.rope(tokens, model.device(), torch::kFloat32);
  for (LinearKind kind : model::all_linear_kinds())
    s.weight_specs[size_t(kind)] = spec_for_site(model::site_name(layer, model::weight_site(kind)));
  s.activation_hooks = activation_quantizers(layer, spec_for_site);
  s.act_absmax = teacher.absmax;
  s.compensation = learned.compensation && (layer < learned.compensation_first || layer >= L - learned.compensation_last);
  return s;
}

struct Trained {
  methods::BakedBlock baked;
  BlockStats stats;
  std::string problem;  // non-empty: the attempt failed (non-finite loss, parameter or weight)
  bool fell_back = false;  // every attempt failed; RTN weights
};

Trained train_block(const model::LlamaModel& model, int64_t layer, const model::DecoderBlock& fp_block,
                    const SpecForSite& spec_for_site, const methods::LearnedOptions& learned, const Teacher& teacher,
                    const std::vector<torch::Tensor>& x_q, double lr_scale) {
  Trained out;
  methods::BlockTrainer trainer(fp_block, block_setup(model, layer, spec_for_site, learned, teacher, x_q.front().size(1)),
                                learned, lr_scale);
  const auto device = model.device();
  const size_t batch = size_t(std::max<int64_t>(learned.batch_size, 1));
  for (int64_t epoch = 0; epoch < learned.epochs; ++epoch) {
    trainer.begin_epoch(epoch);
    double sum = 0;
    int64_t steps = 0;
    for (size_t first = 0; first < x_q.size(); first += batch) {
      auto loss = trainer.step(batch_of(x_q, first, batch, device), batch_of(teacher.y_fp, first, batch, device),
                               batch_of(teacher.y_fp2, first, batch, device), batch_of(teacher.attn_fp, first, batch, device));
      const double value = loss.total.item<double>();
      if (!std::isfinite(value)) {
        out.problem = cat("non-finite loss (", value, ") at epoch ", epoch, ", step ", steps);
        return out;
      }
      if (!trainer.parameters_finite()) {
        out.problem = cat("non-finite parameters after epoch ", epoch, ", step ", steps);
        return out;
      }
      if (std::isnan(out.stats.first_loss)) out.stats.first_loss = value;
      sum += value;
      ++steps;
    }
    out.stats.final_loss = sum / double(steps);
  }
  out.stats.skipped_steps = trainer.skipped_steps();
  out.baked = trainer.bake();
  for (LinearKind kind : model::all_linear_kinds())
    if (!torch::isfinite(out.baked.block.linear(kind).weight).all().item<bool>())
      out.problem = cat(model::site_name(layer, model::weight_site(kind)), ": non-finite values in the quantized weight");
  return out;
}

// The fallback: round-to-nearest on the fp weights, no transformation.
methods::BakedBlock rtn_block(const model::DecoderBlock& fp_block, int64_t layer, const SpecForSite& spec_for_site) {
  torch::NoGradGuard no_grad;
  methods::BakedBlock out;
  out.block = clone_block(fp_block);
  for (LinearKind kind : model::all_linear_kinds()) {
    auto& w = out.block.linear(kind).weight;
    out.transformed[size_t(kind)] = w;
    const auto spec = spec_for_site(model::site_name(layer, model::weight_site(kind)));
    if (spec.enabled()) w = quant::fake_quant(w.to(torch::kFloat32), spec).fake;
  }
  return out;
}

void install(model::LlamaModel& model, int64_t layer, const model::DecoderBlock& baked) {
  const auto dtype = model.dtype();
  model.weights().layers[size_t(layer)] =
      model::map_tensors(baked, [dtype](const torch::Tensor& t) { return t.detach().to(dtype); });
  model.check_weights();
}

std::vector<SiteStats> site_stats(int64_t layer, const methods::BakedBlock& baked, const SpecForSite& spec_for_site,
                                  const std::string& quantizer) {
  std::vector<SiteStats> out;
  for (LinearKind kind : model::all_linear_kinds()) {
    const auto site = model::site_name(layer, model::weight_site(kind));
    const auto spec = spec_for_site(site);
    if (!spec.enabled()) continue;
    const auto& before = baked.transformed[size_t(kind)];
    const auto& after = baked.block.linear(kind).weight;
    out.push_back({site, spec, quantizer, quant::mse(before, after), quant::sqnr_db(before, after), NAN});
  }
  return out;
}

// Trains block `layer` with restarts; falls back to RTN when every attempt fails.
Trained calibrate_block(const model::LlamaModel& model, int64_t layer, const model::DecoderBlock& fp_block,
                        const SpecForSite& spec_for_site, const methods::LearnedOptions& learned, const Teacher& teacher,
                        const std::vector<torch::Tensor>& x_q, CalibrationReport& report) {
  double lr_scale = 1.0;
  for (int64_t attempt = 0;; ++attempt) {
    auto trained = train_block(model, layer, fp_block, spec_for_site, learned, teacher, x_q, lr_scale);
    trained.stats.restarts = attempt;
    if (trained.problem.empty()) return trained;
    const bool retry = attempt < learned.max_restarts;
    const double next = lr_scale * learned.restart_lr_factor;
    const std::string to = retry ? cat("learned (learning rates x", next, ")") : "rtn";
    log_warn("calibration: block ", layer, ": ", trained.problem, "; ", retry ? "restarting with " : "falling back to ", to);
    report.fallbacks.push_back({layer, cat("learned (learning rates x", lr_scale, ")"), to, trained.problem});
    if (!retry) {
      Trained fallback;
      fallback.baked = rtn_block(fp_block, layer, spec_for_site);
      fallback.stats.restarts = attempt;
      fallback.fell_back = true;
      return fallback;
    }
    lr_scale = next;
  }
}

std::vector<torch::Tensor> quantized_pass(const model::LlamaModel& model, int64_t layer, const SpecForSite& spec_for_site,
                                          const std::vector<torch::Tensor>& x_q, const torch::Device& stream_device) {
  torch::NoGradGuard no_grad;
  const auto hooks = activation_quantizers(layer, spec_for_site);
  std::vector<torch::Tensor> out;
  for (const auto& x : x_q)
    out.push_back(fp_block_pass(model, layer, x.to(model.device()), hooks.empty() ? nullptr : &hooks, nullptr).to(stream_device));
  return out;
}

void check_windows(const std::vector<torch::Tensor>& calibration, const methods::LearnedOptions& learned) {
  check_calibration(calibration);
  if (learned.batch_size > 1)
    for (const auto& w : calibration)
      if (w.sizes() != calibration.front().sizes())
        throw Error(cat("learned calibration with batch_size ", learned.batch_size,
                        " needs windows of one shape; got ", calibration.front().sizes(), " and ", w.sizes()));
}

}  // namespace

CalibrationReport calibrate_learned(model::LlamaModel& model, const SpecForSite& spec_for_site,
                                    const methods::LearnedOptions& learned, const std::vector<torch::Tensor>& calibration,
                                    const CalibOptions& options) {
  check_windows(calibration, learned);
  const int64_t num_layers = model.config().num_layers;
  const torch::Device stream_device = options.streams_on_host ? torch::Device(torch::kCPU) : model.device();
  const std::string fingerprint = run_fingerprint(model, spec_for_site, learned, calibration, options);
  const bool need_fp2 = learned.loss.aug_mse || learned.loss.dlc || options.measure_local_error;

  ResumeState state = resume_or_start(model, calibration, fingerprint, options, stream_device);
  CalibrationReport& report = state.report;
  Streams& streams = state.streams;
  const int64_t first_block = state.next_block;

  for (int64_t layer = first_block; layer < num_layers; ++layer) {
    const auto started = std::chrono::steady_clock::now();
    const model::DecoderBlock fp_block = clone_block(model.weights().layers[size_t(layer)]);
    auto teacher = teacher_passes(model, layer, streams, learned.loss.attention_kl, need_fp2, stream_device);
    if (!all_finite(teacher.y_fp))
      throw Error(cat("the floating-point model itself produces non-finite activations at block ", layer,
                      "; check the checkpoint and the model dtype (float16 overflow?)"));

    auto trained = calibrate_block(model, layer, fp_block, spec_for_site, learned, teacher, streams.q, report);
    install(model, layer, trained.baked.block);
    const auto sites = site_stats(layer, trained.baked, spec_for_site, trained.fell_back ? "rtn" : "learned");
    report.sites.insert(report.sites.end(), sites.begin(), sites.end());

    auto next_q = quantized_pass(model, layer, spec_for_site, streams.q, stream_device);
    BlockStats stats = trained.stats;
    stats.block = layer;
    stats.output_mse = mean_squared_error(next_q, teacher.y_fp);
    if (!teacher.y_fp2.empty()) stats.local_mse = mean_squared_error(next_q, teacher.y_fp2);
    streams.q = std::move(next_q);
    streams.fp = std::move(teacher.y_fp);
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report.blocks.push_back(stats);
    log_info("calibration: block ", layer, "/", num_layers, " done in ", stats.seconds, " s, loss ", stats.first_loss,
             " -> ", stats.final_loss, ", output mse ", stats.output_mse, ", local mse ", stats.local_mse);

    if (!commit_block(options, fingerprint, layer, model, streams, report)) return std::move(report);
  }
  report.completed = true;
  return std::move(report);
}

}  // namespace abq::calib

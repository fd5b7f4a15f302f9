#include "framework/calib/learned_calibrator.h"

#include <cmath>

#include "framework/calib/block_passes.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/methods/learned/block_trainer.h"
#include "framework/quant/error_metrics.h"

namespace abq::calib {
namespace {

using model::LinearKind;
using model::SiteKind;

// Windows [first, first + count) concatenated on the batch dim, on `device`.
torch::Tensor batch_of(const std::vector<torch::Tensor>& xs, size_t first, size_t count, const torch::Device& device) {
  if (xs.empty()) return {};
  std::vector<torch::Tensor> parts(xs.begin() + long(first), xs.begin() + long(std::min(xs.size(), first + count)));
  return torch::cat(parts, 0).to(device);
}

methods::BlockSetup block_setup(const BlockTask& task, const methods::LearnedOptions& learned) {
  const auto& model = task.model;
  const int64_t L = model.config().num_layers;
  const int64_t layer = task.layer;
  methods::BlockSetup s;
  s.dims = model.attention_dims();
  s.rms_eps = model.config().rms_eps;
  s.rope = model.rope(task.streams.q.front().size(1), model.device(), torch::kFloat32);
  for (LinearKind kind : model::all_linear_kinds())
    s.weight_specs[size_t(kind)] = task.spec_for_site(model::site_name(layer, model::weight_site(kind)));
  s.activation_hooks = activation_quantizers(layer, task.spec_for_site);
  s.act_absmax = task.teacher.absmax;
  s.compensation = learned.compensation && (layer < learned.compensation_first || layer >= L - learned.compensation_last);
  return s;
}

std::vector<SiteStats> site_stats(int64_t layer, const methods::BakedBlock& baked, const SpecForSite& spec_for_site) {
  std::vector<SiteStats> out;
  for (LinearKind kind : model::all_linear_kinds()) {
    const auto site = model::site_name(layer, model::weight_site(kind));
    const auto spec = spec_for_site(site);
    if (!spec.enabled()) continue;
    const auto& before = baked.transformed[size_t(kind)];
    const auto& after = baked.block.linear(kind).weight;
    out.push_back({site, spec, "learned", quant::mse(before, after), quant::sqnr_db(before, after), NAN});
  }
  return out;
}

// One training run of the block at learning rates × lr_scale; `problem` set on a non-finite loss,
// parameter or baked weight.
BlockResult train_block(const BlockTask& task, const methods::LearnedOptions& learned, double lr_scale) {
  BlockResult out;
  methods::BlockTrainer trainer(task.fp_block, block_setup(task, learned), learned, lr_scale);
  const auto& x_q = task.streams.q;
  const auto& teacher = task.teacher;
  const auto device = task.model.device();
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
  const auto baked = trainer.bake();
  for (LinearKind kind : model::all_linear_kinds())
    if (!torch::isfinite(baked.block.linear(kind).weight).all().item<bool>())
      out.problem = cat(model::site_name(task.layer, model::weight_site(kind)), ": non-finite values in the quantized weight");
  out.baked = baked.block;
  out.sites = site_stats(task.layer, baked, task.spec_for_site);
  return out;
}

std::string attempt_name(double lr_scale) { return cat("learned (learning rates x", lr_scale, ")"); }

}  // namespace

TeacherNeeds LearnedCalibrator::needs() const {
  TeacherNeeds n;
  n.attention = options_.loss.attention_kl;
  n.input_absmax = true;  // the LET initialisation
  n.fp_on_quantized = options_.loss.aug_mse || options_.loss.dlc;
  n.spec_activation_quantizers = true;
  return n;
}

// The learned options, then the spec of every site (weights, activations, KV): all enter training.
void LearnedCalibrator::add_to_fingerprint(Sha256& h, const model::LlamaModel& model,
                                           const SpecForSite& spec_for_site) const {
  h.update("learned " + methods::learned_options().fingerprint(options_) + "\n");
  for (int64_t layer = 0; layer < model.config().num_layers; ++layer)
    for (SiteKind kind : model::all_site_kinds()) {
      const auto site = model::site_name(layer, kind);
      h.update(site + " " + quant::describe(spec_for_site(site)) + "\n");
    }
}

void LearnedCalibrator::check_windows(const std::vector<torch::Tensor>& calibration) const {
  if (options_.batch_size > 1)
    for (const auto& w : calibration)
      if (w.sizes() != calibration.front().sizes())
        throw Error(cat("learned calibration with batch_size ", options_.batch_size,
                        " needs windows of one shape; got ", calibration.front().sizes(), " and ", w.sizes()));
}

// Trains with restarts at lower learning rates; the last failure goes back to the loop (RTN).
BlockResult LearnedCalibrator::calibrate(const BlockTask& task) {
  double lr_scale = 1.0;
  std::vector<CalibFallback> retries;
  for (int64_t attempt = 0;; ++attempt) {
    auto result = train_block(task, options_, lr_scale);
    result.stats.restarts = attempt;
    result.method = result.problem.empty() ? "learned" : attempt_name(lr_scale);
    if (result.problem.empty() || attempt >= options_.max_restarts) {
      result.retries = std::move(retries);
      return result;
    }
    const double next = lr_scale * options_.restart_lr_factor;
    log_warn("calibration: block ", task.layer, ": ", result.problem, "; restarting with ", attempt_name(next));
    retries.push_back({task.layer, attempt_name(lr_scale), attempt_name(next), result.problem});
    lr_scale = next;
  }
}

}  // namespace abq::calib

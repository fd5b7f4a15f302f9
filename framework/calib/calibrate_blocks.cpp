#include "framework/calib/calibrate_blocks.h"

#include <chrono>
#include <cmath>

#include "framework/calib/block_passes.h"
#include "framework/calib/closed_form_calibrator.h"
#include "framework/calib/fp_chain_cache.h"
#include "framework/calib/stream_ops.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/methods/quantizers/rtn.h"

namespace abq::calib {
namespace {

// ---- helpers, each one step of the recipe below

// Identifies a run for resuming: model dims and weights, the calibration tokens, then what the
// calibrator says identifies its result (settings, site specs).
std::string run_fingerprint(const model::LlamaModel& model, const SpecForSite& spec_for_site,
                            const BlockCalibrator& calibrator, const std::vector<torch::Tensor>& calibration,
                            const CalibOptions& options) {
  Sha256 h;
  hash_model_and_tokens(h, model, calibration, options);
  calibrator.add_to_fingerprint(h, model, spec_for_site);
  return h.hex_digest();
}

// The baked block replaces block `layer`, in the model's dtype (a trainer bakes in fp32).
void install(model::LlamaModel& model, int64_t layer, const model::DecoderBlock& baked) {
  const auto dtype = model.dtype();
  model.weights().layers[size_t(layer)] =
      model::map_tensors(baked, [dtype](const torch::Tensor& t) { return t.detach().to(dtype); });
  model.check_weights();
}

// One try at block task.layer: the calibrator, then the baked block installed and X_q through it.
struct Attempt {
  BlockResult result;
  std::vector<torch::Tensor> next_q;
};

Attempt attempt_block(BlockCalibrator& calibrator, const BlockTask& task) {
  Attempt a{calibrator.calibrate(task), {}};
  if (!a.result.problem.empty()) return a;
  torch::NoGradGuard no_grad;
  install(task.model, task.layer, a.result.baked);
  a.next_q = run_block(task.model, task.layer, task.streams.q, task.stream_device);
  if (!all_finite(a.next_q))
    a.result.problem = cat("layers.", task.layer, ": non-finite values in the quantized block's output");
  return a;
}

// The calibrator's attempt, or RTN from the fp weights when it reports a problem (logged and
// listed); a failing fallback stops the run.
Attempt calibrate_or_fall_back(BlockCalibrator& calibrator, const BlockTask& task, CalibrationReport& report) {
  auto attempt = attempt_block(calibrator, task);
  report.fallbacks.insert(report.fallbacks.end(), attempt.result.retries.begin(), attempt.result.retries.end());
  if (attempt.result.problem.empty()) return attempt;
  methods::RtnQuantizer rtn;
  ClosedFormCalibrator fallback(rtn);
  const auto& failed = attempt.result;
  log_warn("calibration: block ", task.layer, ": ", failed.problem, "; restarting the block from its fp weights with ",
           fallback.name());
  report.fallbacks.push_back({task.layer, failed.method, fallback.name(), failed.problem});
  const int64_t restarts = failed.stats.restarts;
  task.model.weights().layers[size_t(task.layer)] = task.fp_block;
  auto redone = attempt_block(fallback, task);
  if (!redone.result.problem.empty())
    throw Error(cat("calibration of block ", task.layer, " failed with ", calibrator.name(), " and with the ",
                    fallback.name(), " fallback: ", redone.result.problem, "; refusing to produce a broken model"));
  redone.result.stats.restarts = restarts;
  return redone;
}

// How the Y_fp passes of one calibrate_blocks call went, for CalibrationReport::fp_chain.
struct ChainTally {
  int64_t blocks = 0;
  int64_t hits = 0;
  double seconds = 0;
};

// The teacher passes of block `layer`, with Y_fp read from the fp chain cache when it holds the
// block (the fp pass is then skipped) and stored there when it does not. Y_fp2 runs on X_q either way.
Teacher teacher_with_chain(const model::LlamaModel& model, int64_t layer, const Streams& streams,
                           const TeacherNeeds& needs, const torch::Device& stream_device, const FpChainCache& chain,
                           ChainTally& tally) {
  const auto started = std::chrono::steady_clock::now();
  auto cached = chain.get(layer, streams.fp.size(), stream_device);
  TeacherNeeds fp_needs = needs;
  fp_needs.fp_on_quantized = false;
  Teacher t;
  if (cached) {
    t.y_fp = std::move(*cached);
  } else {
    t = teacher_passes(model, layer, streams, fp_needs, stream_device);
    chain.put(layer, t.y_fp);
  }
  tally.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ++tally.blocks;
  tally.hits += cached ? 1 : 0;
  if (needs.fp_on_quantized) t.y_fp2 = fp_block_outputs(model, layer, streams.q, stream_device);
  return t;
}

std::string chain_outcome(bool cacheable, const FpChainCache& chain, const ChainTally& tally) {
  if (!cacheable) return "n/a";
  if (!chain.enabled()) return "off";
  return tally.blocks > 0 && tally.hits == tally.blocks ? "hit" : "miss";
}

}  // namespace

// ---- the recipe

CalibrationReport calibrate_blocks(model::LlamaModel& model, const SpecForSite& spec_for_site,
                                   BlockCalibrator& calibrator, const std::vector<torch::Tensor>& calibration,
                                   const CalibOptions& options) {
  check_calibration(calibration);
  calibrator.check_windows(calibration);
  const int64_t num_layers = model.config().num_layers;
  const torch::Device stream_device = options.streams_on_host ? torch::Device(torch::kCPU) : model.device();
  const std::string fingerprint = run_fingerprint(model, spec_for_site, calibrator, calibration, options);
  TeacherNeeds needs = calibrator.needs();
  needs.fp_on_quantized = needs.fp_on_quantized || options.measure_local_error;
  // Y_fp comes from the stage cache only when the fp pass is needed for nothing else.
  const bool chain_cacheable = !needs.attention && !needs.input_absmax;
  const FpChainCache chain(chain_cacheable ? options.stage_cache : nullptr, options.fp_chain_key);
  ChainTally tally;

  // 1. Inputs of block 0 for every window, or the state after the last committed block.
  ResumeState state = resume_or_start(model, calibration, fingerprint, options, stream_device);
  if (options.require_packed && state.next_block > 0)
    throw Error(cat("calibration checkpoint ", options.checkpoint_dir, " holds blocks 0..", state.next_block - 1,
                    " as fake-quantized weights without their integer codes, which quant.execution: packed needs; "
                    "remove that directory to calibrate again, or run with quant.execution: simulated"));
  const PackLinear* pack = options.pack ? &options.pack : nullptr;
  CalibrationReport& report = state.report;
  Streams& streams = state.streams;

  for (int64_t layer = state.next_block; layer < num_layers; ++layer) {
    const auto started = std::chrono::steady_clock::now();
    const model::DecoderBlock fp_block = clone_block(model.weights().layers[size_t(layer)]);  // to restart the block
    RestoreHooks restore(model);  // the quantized stream's hooks for this block, put back after it
    if (needs.spec_activation_quantizers) set_layer_hooks(model, layer, activation_quantizers(layer, spec_for_site));

    // 2. Teacher passes with the fp block: X_fp → Y_fp (the next X_fp), and what the calibrator asked for.
    const Teacher teacher = teacher_with_chain(model, layer, streams, needs, stream_device, chain, tally);
    if (!all_finite(teacher.y_fp))
      throw Error(cat("the floating-point model itself produces non-finite activations at block ", layer,
                      "; check the checkpoint and the model dtype (float16 overflow?)"));

    // 3. Calibrate, install, X_q through the baked block; a non-finite result restarts the block with RTN.
    const BlockTask task{model, layer, fp_block, streams, teacher, spec_for_site, stream_device, pack};
    auto attempt = calibrate_or_fall_back(calibrator, task, report);

    // 4. Advance both streams and record the statistics.
    torch::NoGradGuard no_grad;
    BlockStats stats = attempt.result.stats;
    stats.block = layer;
    stats.output_mse = mean_squared_error(attempt.next_q, teacher.y_fp);
    if (!teacher.y_fp2.empty()) stats.local_mse = mean_squared_error(attempt.next_q, teacher.y_fp2);
    streams.q = std::move(attempt.next_q);
    streams.fp = teacher.y_fp;
    report.sites.insert(report.sites.end(), attempt.result.sites.begin(), attempt.result.sites.end());
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report.blocks.push_back(stats);
    log_info("calibration: block ", layer, "/", num_layers, " done in ", stats.seconds, " s",
             std::isnan(stats.first_loss) ? "" : cat(", loss ", stats.first_loss, " -> ", stats.final_loss),
             ", output mse ", stats.output_mse, ", local mse ", stats.local_mse);

    // 5. Commit the block, so a killed run resumes at the next one.
    report.fp_chain = {chain_outcome(chain_cacheable, chain, tally), tally.seconds};
    if (!commit_block(options, fingerprint, layer, model, streams, report)) return std::move(report);
  }
  report.fp_chain = {chain_outcome(chain_cacheable, chain, tally), tally.seconds};
  report.completed = true;
  return std::move(report);
}

}  // namespace abq::calib

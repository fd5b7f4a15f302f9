// Block-wise calibration: the model is quantized one decoder block at a time, each block seeing
// the inputs the already-quantized blocks before it produce (ABQ-LLM / OmniQuant / GPTQ loop,
// spec abq-llm-algorithm.md §4 and §21.2). One loop for every method; what differs per method is
// a BlockCalibrator (block_calibrator.h).
//
// Streams, one [B, T, C] tensor per calibration window, all starting from the embeddings:
//   X_fp   the fp teacher chain: fp blocks on fp inputs, activation hooks off;
//   X_q    the quantized chain: baked blocks on X_q, with the model's activation hooks (activation
//          quantizers installed before calibration apply here only), or with the specs' dynamic
//          activation quantizers when the calibrator asks for them (learned calibration);
//   X_fp2  the fp block applied to X_q, computed per block when the calibrator needs it or
//          measure_local_error is on (the OmniQuant "aug" target; it also measures the error a
//          block adds by itself).
// Per block: teacher passes (TeacherNeeds) → calibrator → install the baked block → X_q through it
// → statistics → checkpoint.
// A block whose calibration reports a numerical problem or whose quantized output holds NaN/Inf is
// restarted from its fp weights with RTN (ClosedFormCalibrator); the fallback is logged and listed
// in the report. If RTN fails too, calibration stops with abq::Error.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/calib/block_calibrator.h"
#include "framework/calib/calibration_report.h"
#include "framework/core/stage_cache.h"
#include "framework/model/llama_model.h"

namespace abq::calib {

struct CalibOptions {
  bool streams_on_host = false;     // keep X_fp / X_q on the CPU between blocks (large models on one GPU)
  bool measure_local_error = true;  // run the fp block on X_q too, for BlockStats::local_mse (one more pass)
  std::string checkpoint_dir;       // empty: no checkpoints; else resume from and commit to this directory
  /// What the weights are, for the resume fingerprint (e.g. the sha256 of the model files). Empty:
  /// the engine hashes every tensor of the model as given. Either way a checkpoint made from other
  /// weights is refused, never resumed.
  std::string weights_digest;
  /// Called after each block is committed (and checkpointed); returning false stops the run there
  /// with CalibrationReport::completed = false. Bounds a job's time; tests use it to simulate a kill.
  std::function<bool(int64_t block)> after_block;
  /// Packs each baked weight whose calibrator keeps codes (closed form: rtn, gptq, awq_clip, and
  /// the RTN fallback); empty: baked linears hold fake weights only.
  PackLinear pack;
  /// Every baked linear must come with its packed form (quant.execution: packed): a checkpoint to
  /// resume, which stores fake weights only, is refused with an abq::Error naming it.
  bool require_packed = false;
  /// Where Y_fp of every block is kept across runs (fp_chain_cache.h), and the digest of what it
  /// depends on: the fp model state as calibration starts (weights, dtype, device) and the windows.
  /// Null or "": Y_fp is computed. Used only when the calibrator needs no attention maps or input
  /// abs-max from the fp pass (those would need the pass anyway).
  const StageCache* stage_cache = nullptr;
  std::string fp_chain_key;
};

/// Quantizes every linear weight of `model` in place, block by block, with `calibrator`, and
/// returns the statistics. calibration: token windows, each [B, T] int64 (usually [1, T]).
/// Resumes from options.checkpoint_dir when it holds a committed state of this run (same model
/// dims and weights, calibrator settings, specs, options and tokens); a state of another run is an
/// abq::Error, never overwritten.
/// Activation hooks installed on `model` are kept and applied on the quantized stream.
CalibrationReport calibrate_blocks(model::LlamaModel& model, const SpecForSite& spec_for_site,
                                   BlockCalibrator& calibrator, const std::vector<torch::Tensor>& calibration,
                                   const CalibOptions& options = {});

}  // namespace abq::calib

// BlockCalibrator: the extension point of the block-wise calibration loop (calibrate_blocks.h).
// The loop owns everything around a block — streams, teacher passes, the quantized pass, the
// non-finite fallback to RTN, statistics, checkpoints and resume — and asks a calibrator one thing:
// given the fp block, the streams and the teacher outputs it declared it needs, produce the baked
// (fake-quantized) block.
//
// Two families plug in today:
//   ClosedFormCalibrator (closed_form_calibrator.h): any methods::WeightQuantizer (rtn, gptq,
//     awq_clip) on input Hessians, stage by stage (true_sequential);
//   LearnedCalibrator (learned_calibrator.h): OmniQuant / AffineQuant / ABQ-LLM, a
//     methods::BlockTrainer per block, restarted at lower learning rates on a non-finite loss.
// A new method is one class deriving from BlockCalibrator plus one registry line (README.md).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/calib/block_checkpoint.h"
#include "framework/calib/calibration_report.h"
#include "framework/core/sha256.h"
#include "framework/methods/learned/block_transform.h"
#include "framework/methods/weight_quantizer.h"
#include "framework/model/llama_model.h"
#include "framework/quant/quant_spec.h"

namespace abq::calib {

/// The QuantSpec of a site (`layers.{i}.{linear}.weight`, `layers.{i}.mlp.down_proj.input`, ...);
/// disabled specs leave it fp.
using SpecForSite = std::function<quant::QuantSpec(const std::string& site)>;

/// The packed form of a baked weight from its quantizer's codes, scales and zero-points, or null
/// when the spec has no packed form (kernel layout or GGUF blocks). The caller supplies it (calib/
/// knows no packed formats); a calibrator that produces codes puts its result on the baked linear
/// (model::Linear::packed).
using PackLinear =
    std::function<std::shared_ptr<const model::PackedLinear>(const quant::QuantSpec&, const methods::WeightQuantResult&)>;

/// The teacher outputs a calibrator needs per block, computed by the loop with the fp block before
/// the calibrator runs. Y_fp (the fp block on X_fp) is always computed: it is the next X_fp.
struct TeacherNeeds {
  bool attention = false;          // head-mean fp attention A_fp [B, T, T] per window (from X_fp)
  bool input_absmax = false;       // per-channel max|x| at the q, o, up and down inputs (from X_fp)
  bool fp_on_quantized = false;    // Y_fp2 = fp block on X_q (also computed for CalibOptions::measure_local_error)
  /// The quantized stream runs this block through the specs' dynamic activation quantizers
  /// (replacing the model's hooks for the block) instead of the hooks installed on the model.
  bool spec_activation_quantizers = false;
};

/// What the teacher passes produced for one block; entries not asked for stay empty.
struct Teacher {
  std::vector<torch::Tensor> y_fp;     // fp block on X_fp, one [B, T, C] per window
  std::vector<torch::Tensor> attn_fp;  // its head-mean attention [B, T, T]
  std::vector<torch::Tensor> y_fp2;    // fp block on X_q
  methods::ActivationAbsMax absmax;    // from X_fp
};

/// Everything one block's calibration may read. `model`'s block `layer` holds the fp weights when
/// calibrate() is called; a calibrator may write into it (a stage loop bakes as it goes), the loop
/// restores it from fp_block before a fallback. The model's activation hooks are those of the
/// quantized stream (TeacherNeeds::spec_activation_quantizers decides which).
struct BlockTask {
  model::LlamaModel& model;
  int64_t layer;
  const model::DecoderBlock& fp_block;  // a deep copy of the fp weights
  const Streams& streams;               // X_fp and X_q at the block's input
  const Teacher& teacher;
  const SpecForSite& spec_for_site;
  torch::Device stream_device;          // where the streams live (model device or the CPU)
  const PackLinear* pack = nullptr;     // CalibOptions::pack, or null: baked linears keep no packed form
};

/// One block's outcome. On success `baked` is installed by the loop (cast to the model dtype) and
/// X_q advanced through it; a non-empty `problem` makes the loop redo the block with RTN.
struct BlockResult {
  model::DecoderBlock baked;
  std::vector<SiteStats> sites;               // one per enabled weight site
  BlockStats stats;                           // losses, restarts, skipped steps; the loop fills the rest
  std::vector<CalibFallback> retries;         // restarts the calibrator took itself (listed in the report)
  std::string method;                         // what produced `baked`, or what failed (CalibFallback::from)
  std::string problem;                        // non-empty: numerical failure, e.g. a non-finite weight
};

class BlockCalibrator {
 public:
  virtual ~BlockCalibrator() = default;
  /// The registry name ("gptq", "learned", ...).
  virtual std::string name() const = 0;
  virtual TeacherNeeds needs() const = 0;
  /// Adds what identifies this calibrator's result to the resume fingerprint: its settings and the
  /// specs of every site it reads. The loop has already added the model, weights and tokens.
  virtual void add_to_fingerprint(Sha256& h, const model::LlamaModel& model, const SpecForSite& spec_for_site) const = 0;
  /// Throws abq::Error for windows this calibrator cannot use (after the loop's own checks).
  virtual void check_windows(const std::vector<torch::Tensor>& calibration) const {}
  /// Calibrates block task.layer. Numerical failures are reported in BlockResult::problem;
  /// abq::Error is for inputs the calibrator cannot handle at all.
  virtual BlockResult calibrate(const BlockTask& task) = 0;
};

}  // namespace abq::calib

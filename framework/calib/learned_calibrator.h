// LearnedCalibrator: OmniQuant, AffineQuant and ABQ-LLM as a BlockCalibrator (spec
// abq-llm-algorithm.md §4, §13, §18, §19). Per block, on the loop's teacher outputs (Y_fp, the
// head-mean attention A_fp for attention_kl, per-channel max|x| of the linears' inputs for the LET
// initialisation, Y_fp2 for aug_mse / dlc):
//   a methods::BlockTrainer trains the block's parameters for `epochs` passes over the windows in
//   order (batch_size windows per step, no shuffling, as the reference), then bakes the quantized
//   block (weights, norms, online transforms).
// Activation and KV sites are fake-quantized dynamically during training with their specs, and
// the quantized stream runs through the same quantizers (a site with static ranges is trained
// with dynamic ones; its static range is calibrated afterwards on the finished model by the
// pipeline).
// A non-finite loss or parameter restarts the block from its fp weights with every learning rate
// × restart_lr_factor, up to max_restarts times (each listed as a retry); when every attempt fails
// the result carries the problem and the loop falls back to RTN.
// Differences from the references, on purpose: the teacher passes run in the calibration dtype (the
// references use fp16 autocast); the q/k pair is also applied when baking (ABQ-LLM's in-place bake
// omits smooth_q_k_inplace for LLaMA, so its saved model drops a transform it trained with).
#pragma once

#include <string>
#include <vector>

#include "framework/calib/block_calibrator.h"
#include "framework/methods/learned/learned_options.h"

namespace abq::calib {

class LearnedCalibrator final : public BlockCalibrator {
 public:
  explicit LearnedCalibrator(methods::LearnedOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "learned"; }
  TeacherNeeds needs() const override;
  void add_to_fingerprint(Sha256& h, const model::LlamaModel& model, const SpecForSite& spec_for_site) const override;
  /// batch_size > 1 concatenates windows: they must share one shape.
  void check_windows(const std::vector<torch::Tensor>& calibration) const override;
  BlockResult calibrate(const BlockTask& task) override;

 private:
  methods::LearnedOptions options_;
};

}  // namespace abq::calib

// ClosedFormCalibrator: a per-weight methods::WeightQuantizer (rtn, gptq, awq_clip) as a
// BlockCalibrator. Per block, for each stage: input Hessians H = 2/N·Σ xᵀx of the stage's linears
// from X_q (N = windows, through the model's activation hooks, so an activation quantizer's output
// is what H sees) → the quantizer per linear with WeightContext::hessian → bake the fake weights
// into the model, so the next stage's Hessians see this one quantized. With BlockTask::pack the
// baked linear also holds the packed form of the quantizer's own codes, scales and zero-points.
// Stages: with true_sequential (GPTQ's --true-sequential) the linears are quantized in the order
// [q, k, v] → [o] → [gate, up] → [down]; without it all seven use inputs of the unquantized block.
// A LibTorch numerical error inside the quantizer (e.g. a Cholesky failure) or a non-finite
// quantized weight is reported as BlockResult::problem.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "framework/calib/block_calibrator.h"
#include "framework/methods/weight_quantizer.h"

namespace abq::calib {

class ClosedFormCalibrator final : public BlockCalibrator {
 public:
  /// Uses `quantizer`, which the caller keeps alive for the calibrator's lifetime.
  explicit ClosedFormCalibrator(methods::WeightQuantizer& quantizer, bool true_sequential = true);
  /// Owns `quantizer` (the registry's form).
  explicit ClosedFormCalibrator(std::unique_ptr<methods::WeightQuantizer> quantizer, bool true_sequential = true);

  std::string name() const override { return quantizer_.name(); }
  TeacherNeeds needs() const override { return {}; }  // Y_fp only; Hessians come from X_q here
  void add_to_fingerprint(Sha256& h, const model::LlamaModel& model, const SpecForSite& spec_for_site) const override;
  BlockResult calibrate(const BlockTask& task) override;

 private:
  std::unique_ptr<methods::WeightQuantizer> owned_;
  methods::WeightQuantizer& quantizer_;
  bool true_sequential_;
};

}  // namespace abq::calib

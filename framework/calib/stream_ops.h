// Pieces of the block-wise calibration loop (calibrate_blocks): input checks, the streams' start,
// copies and comparisons, the per-block commit and the model + tokens part of the fingerprint.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/calib/block_checkpoint.h"
#include "framework/calib/calibrate_blocks.h"
#include "framework/core/sha256.h"
#include "framework/model/llama_model.h"

namespace abq::calib {

/// Throws abq::Error unless every window is a non-empty int64 [B, T] tensor.
void check_calibration(const std::vector<torch::Tensor>& calibration);
/// X_fp = X_q = the embeddings of every window, on stream_device.
Streams capture_block0_inputs(const model::LlamaModel& model, const std::vector<torch::Tensor>& calibration,
                              const torch::Device& stream_device);
/// The start of the calibration loop: the state after the last committed block when
/// options.checkpoint_dir holds one for `fingerprint` (logged), else block 0's inputs and an empty
/// report. resumed_at_block is set either way.
ResumeState resume_or_start(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration,
                            const std::string& fingerprint, const CalibOptions& options,
                            const torch::Device& stream_device);
/// A deep copy of a block (a quantizer may write into the tensors it was given).
model::DecoderBlock clone_block(const model::DecoderBlock& block);
bool all_finite(const std::vector<torch::Tensor>& xs);
/// Mean squared difference over all windows, in float64.
double mean_squared_error(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b);
/// The end of every block of the calibration loop: commit a checkpoint (when options.checkpoint_dir is
/// set) and ask options.after_block whether to go on. False: the caller stops and returns its report.
bool commit_block(const CalibOptions& options, const std::string& fingerprint, int64_t layer,
                  const model::LlamaModel& model, const Streams& streams, const CalibrationReport& report);
/// Adds the model dims, its weights and the calibration tokens to a resume fingerprint. The weights
/// enter as options.weights_digest or, when that is empty, as a sha256 of every tensor of `model`
/// now (before any block is calibrated); not at all without options.checkpoint_dir.
void hash_model_and_tokens(Sha256& h, const model::LlamaModel& model, const std::vector<torch::Tensor>& calibration,
                           const CalibOptions& options);

}  // namespace abq::calib

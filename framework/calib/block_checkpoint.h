// Per-block checkpoints of a block-wise calibration, so a killed run resumes at the next block and
// finishes bit-identical to an uninterrupted one (on the CPU; GPU kernels may not be deterministic).
//
// Directory layout (one directory per run; `state.json` is the commit point, written last):
//   block_{i}.bin        block i's baked tensors (norms, linear weights and biases, online transforms,
//                        norm input biases), tensor_file.h format
//   streams_{i}.bin      the streams after block i: "fp.{j}" (X_fp) and "q.{j}" (X_q) per window j
//   state.json           {"format", "fingerprint", "next_block", "report"}; older streams files are
//                        removed once a newer state is committed
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/calib/calibration_report.h"
#include "framework/model/llama_model.h"

namespace abq::calib {

/// The two activation streams, one [B, T, C] tensor per calibration window.
struct Streams {
  std::vector<torch::Tensor> fp;  // X_fp: fp blocks applied to fp inputs
  std::vector<torch::Tensor> q;   // X_q: quantized blocks applied to quantized inputs
};

/// What a resume restores: the report so far, the streams after the last committed block, and the
/// first block still to calibrate.
struct ResumeState {
  int64_t next_block = 0;
  CalibrationReport report;
  Streams streams;
};

/// Commits block `block`: writes its baked tensors, the streams, then state.json (next_block =
/// block + 1, `report`). Creates `dir` if needed. Throws abq::Error naming the file on I/O failure.
void save_block_checkpoint(const std::string& dir, const std::string& fingerprint, int64_t block,
                           const model::LlamaModel& model, const Streams& streams, const CalibrationReport& report);

/// When `dir` holds a committed state: checks its fingerprint (abq::Error naming both values on a
/// mismatch: the directory belongs to another run), loads the baked tensors of blocks
/// 0..next_block-1 into `model` (checking names, shapes and dtypes) and returns the state with the
/// streams on `stream_device`. std::nullopt when there is nothing to resume.
std::optional<ResumeState> load_block_checkpoint(const std::string& dir, const std::string& fingerprint,
                                                 model::LlamaModel& model, const torch::Device& stream_device);

}  // namespace abq::calib

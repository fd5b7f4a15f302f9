// Correction: the plugin interface for output-preserving transforms of a model's weights
// (SmoothQuant, AWQ scaling, rotations, ...). A correction gathers the statistics it needs by
// running the floating-point model on calibration tokens, then rewrites weights so that the fp
// model computes the same function while its quantization sites become easier to quantize.
// Implementations live in methods/corrections/, one file each.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/model/llama_model.h"

namespace abq::methods {

/// One calibration window of token ids.
struct CalibrationBatch {
  torch::Tensor tokens;  // [B, T] int64
};

class Correction {
 public:
  virtual ~Correction() = default;
  /// Registry / log name, e.g. "smoothquant".
  virtual std::string name() const = 0;
  /// Collects statistics on `calibration_tokens` (each [B, T] int64) with the unquantized model,
  /// then rewrites `model`'s weights in place. The model's activation hooks are restored afterwards.
  /// Throws abq::Error on bad input (no calibration data, bad token shapes).
  virtual void apply(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration_tokens) = 0;
};

}  // namespace abq::methods

// Correction: the plugin interface for output-preserving transforms of a model's weights
// (SmoothQuant, AWQ scaling, rotations, ...). A correction gathers the statistics it needs by
// running the floating-point model on calibration tokens, then rewrites weights so that the fp
// model computes the same function while its quantization sites become easier to quantize.
// Implementations live in methods/corrections/, one file each.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/core/stage_cache.h"
#include "framework/model/llama_model.h"
#include "framework/quant/quant_spec.h"

namespace abq::methods {

/// One calibration window of token ids.
struct CalibrationBatch {
  torch::Tensor tokens;  // [B, T] int64
};

/// The experiment's plan for each weight site (`layers.{i}.{linear}.weight`): the grid the weights
/// will be quantized on. Corrections that search against quantized weights (AWQ) read it here
/// instead of carrying their own bits / group size, so a sweep over the weight grid moves them too.
using WeightSpecs = std::function<quant::QuantSpec(const std::string& site)>;

/// Where a correction keeps statistics of the fp model that a sweep's runs share (activation
/// abs-max), so runs of the same model state and calibration windows compute them once. `key` is the
/// caller's digest of both: the model files, dtype, device, the corrections applied before and the
/// windows; the correction adds what its statistics depend on of its own. It records each cached
/// stage it used in `uses` (framework/core/stage_cache.h StageUse).
struct CorrectionCache {
  const StageCache* cache = nullptr;
  std::string key;
  std::map<std::string, StageUse> uses;
};

class Correction {
 public:
  virtual ~Correction() = default;
  /// Registry / log name, e.g. "smoothquant".
  virtual std::string name() const = 0;
  /// Collects statistics on `calibration_tokens` (each [B, T] int64) with the unquantized model,
  /// then rewrites `model`'s weights in place. The model's activation hooks are restored afterwards.
  /// `weight_specs` is the plan's spec per weight site (empty: the correction must not need it).
  /// Throws abq::Error on bad input (no calibration data, bad token shapes).
  /// `cache` (may be null: compute everything) lends the stage cache to the statistics.
  void apply(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration_tokens,
             const WeightSpecs& weight_specs = {}, CorrectionCache* cache = nullptr) {
    cache_ = cache;
    try {
      run(model, calibration_tokens, weight_specs);
    } catch (...) {
      cache_ = nullptr;
      throw;
    }
    cache_ = nullptr;
  }
  /// Whether the result depends on the weight plan (a search on the quantized grid, AWQ): then the
  /// model after this correction differs between runs of different weight bits.
  virtual bool reads_weight_specs() const { return false; }

 protected:
  /// The stage cache lent to the apply() in progress, or null.
  CorrectionCache* cache() const { return cache_; }

  virtual void run(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration_tokens,
                   const WeightSpecs& weight_specs) = 0;

 private:
  CorrectionCache* cache_ = nullptr;
};

}  // namespace abq::methods

// The fp teacher chain of block-wise calibration (Y_fp of every block, calibrate_blocks.h) in the
// stage cache (framework/core/stage_cache.h). Y_fp depends on the fp model as calibration starts
// and on the windows only, never on the weight quantization a sweep varies, so the runs that share
// both compute it once. One entry per block: `fp_chain`-stage_key(format version, chain key, block),
// holding each window's [B, T, C] output in the tensor file encoding (tensor_file.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/core/stage_cache.h"

namespace abq::calib {

class FpChainCache {
 public:
  /// `cache` null or disabled, or `chain_key` "" (CalibOptions::fp_chain_key): off.
  FpChainCache(const StageCache* cache, std::string chain_key);
  bool enabled() const { return cache_ != nullptr; }

  /// Y_fp of block `layer` on `device`, or nullopt: absent, damaged, or not `windows` windows.
  std::optional<std::vector<torch::Tensor>> get(int64_t layer, size_t windows, const torch::Device& device) const;
  /// Stores Y_fp of block `layer` (a failure to write is logged by the cache and ignored).
  void put(int64_t layer, const std::vector<torch::Tensor>& y_fp) const;

 private:
  std::string key(int64_t layer) const;
  const StageCache* cache_ = nullptr;
  std::string chain_key_;
};

}  // namespace abq::calib

#include "framework/calib/fp_chain_cache.h"

#include "framework/calib/tensor_file.h"
#include "framework/core/log.h"

namespace abq::calib {
namespace {

// Bumped whenever what a teacher pass computes for Y_fp changes, so older entries are never read.
constexpr char kFpChainStage[] = "fp_chain block outputs v1";

}  // namespace

FpChainCache::FpChainCache(const StageCache* cache, std::string chain_key)
    : cache_(cache && cache->enabled() && !chain_key.empty() ? cache : nullptr), chain_key_(std::move(chain_key)) {}

std::string FpChainCache::key(int64_t layer) const { return stage_key({kFpChainStage, chain_key_, std::to_string(layer)}); }

std::optional<std::vector<torch::Tensor>> FpChainCache::get(int64_t layer, size_t windows,
                                                            const torch::Device& device) const {
  if (!cache_) return std::nullopt;
  auto bytes = cache_->get("fp_chain", key(layer));
  if (!bytes) return std::nullopt;
  try {
    NamedTensors tensors = decode_tensors(*bytes, cache_->path("fp_chain", key(layer)));
    if (tensors.size() != windows) {
      log_warn("stage cache: the fp chain entry of block ", layer, " holds ", tensors.size(), " windows, the run has ",
               windows, "; computing it again");
      return std::nullopt;
    }
    std::vector<torch::Tensor> y_fp;
    for (auto& named : tensors) y_fp.push_back(named.second.to(device));  // [B, T, C]
    return y_fp;
  } catch (const std::exception& e) {
    log_warn("stage cache: the fp chain entry of block ", layer, " cannot be decoded (", e.what(), "); computing it again");
    return std::nullopt;
  }
}

void FpChainCache::put(int64_t layer, const std::vector<torch::Tensor>& y_fp) const {
  if (!cache_) return;
  NamedTensors tensors;
  for (size_t w = 0; w < y_fp.size(); ++w) tensors.emplace_back("window." + std::to_string(w), y_fp[w]);
  cache_->put("fp_chain", key(layer), encode_tensors(tensors, "the fp chain entry of block " + std::to_string(layer)));
}

}  // namespace abq::calib

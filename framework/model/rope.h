// Rotary position embedding (Su et al. 2021) in the HF "rotate_half" convention: the head dim is
// split into halves [x1, x2] and rotated as x·cos + cat(-x2, x1)·sin, with frequency i used by
// dims i and i + D/2. θ_i = base^(−2i/D), optionally rescaled (llama3 or linear RopeScaling).
#pragma once

#include <memory>
#include <mutex>
#include <map>
#include <tuple>
#include <vector>

#include <torch/torch.h>

#include "framework/model/llama_config.h"

namespace abq::model {

/// The D/2 inverse frequencies θ_i, after scaling. Matches HF `_compute_default_rope_parameters`,
/// `_compute_llama3_parameters` and linear scaling (positions ÷ factor, i.e. θ_i ÷ factor).
/// Then divides θ_i by scaling.freq_divisors[i] when given (llama.cpp's rope_freqs / freq_factors).
/// Throws abq::Error for an unknown scaling type, an odd head_dim, non-positive factors or divisors,
/// or a divisor count other than head_dim / 2.
std::vector<double> rope_inv_freq(int64_t head_dim, double theta, const RopeScaling& scaling);

/// cos / sin tables, [T, D] each, for positions 0..T-1.
struct RopeTable {
  torch::Tensor cos;
  torch::Tensor sin;
};

/// Builds tables on demand and keeps one per (T, device, dtype). Copies share the cache; thread safe.
class RopeCache {
 public:
  RopeCache() = default;
  explicit RopeCache(std::vector<double> inv_freq);
  /// Angles are computed in fp64 on the host, then cast to `dtype` and moved to `device`.
  RopeTable get(int64_t num_tokens, const torch::Device& device, torch::ScalarType dtype) const;
  const std::vector<double>& inv_freq() const { return inv_freq_; }

 private:
  using Key = std::tuple<int64_t, std::string, int>;
  struct State {
    std::mutex mutex;
    std::map<Key, RopeTable> tables;
  };
  std::vector<double> inv_freq_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

/// x [B, heads, T, D], cos / sin [T, D] (or [B, 1, T, D] from rope_at_positions) -> [B, heads, T, D].
torch::Tensor apply_rope(const torch::Tensor& x, const RopeTable& table);

/// The rows of `table` (positions 0..N-1) at explicit positions [B, T] (int64, each < N), shaped
/// [B, 1, T, D] so apply_rope broadcasts them over heads. Used when each row of a batch starts at
/// its own offset, e.g. continuations after cached prefixes of different lengths.
RopeTable rope_at_positions(const RopeTable& table, const torch::Tensor& positions);

}  // namespace abq::model

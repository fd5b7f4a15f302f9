#include "framework/model/rope.h"

#include <cmath>

#include "framework/core/error.h"

namespace abq::model {
namespace {
constexpr double kPi = 3.14159265358979323846;
}

// θ_i after the parametric scaling (none / linear / llama3), before any per-frequency divisors.
static std::vector<double> scaled_inv_freq(int64_t head_dim, double theta, const RopeScaling& scaling) {
  if (head_dim <= 0 || head_dim % 2 != 0)
    throw Error(cat("rope: head_dim must be a positive even number, got ", head_dim));
  if (!(theta > 0)) throw Error(cat("rope: rope_theta must be > 0, got ", theta));
  std::vector<double> inv_freq(static_cast<size_t>(head_dim / 2));
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    inv_freq[i] = 1.0 / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(head_dim));
  }
  if (scaling.type == "none" || scaling.type == "default" || scaling.type.empty()) return inv_freq;
  if (!(scaling.factor > 0)) throw Error(cat("rope_scaling.factor must be > 0, got ", scaling.factor));
  if (scaling.type == "linear") {
    for (auto& f : inv_freq) f /= scaling.factor;
    return inv_freq;
  }
  if (scaling.type == "llama3") {
    // Llama-3.1: long wavelengths are divided by `factor`, short ones kept, and the band between
    // is interpolated smoothly (HF modeling_rope_utils._compute_llama3_parameters).
    if (!(scaling.high_freq_factor > scaling.low_freq_factor) || !(scaling.low_freq_factor > 0) ||
        scaling.original_max_position <= 0)
      throw Error(cat("rope_scaling (llama3): need 0 < low_freq_factor < high_freq_factor and "
                      "original_max_position_embeddings > 0, got low_freq_factor=",
                      scaling.low_freq_factor, " high_freq_factor=", scaling.high_freq_factor,
                      " original_max_position_embeddings=", scaling.original_max_position));
    const double old_context = static_cast<double>(scaling.original_max_position);
    const double low_freq_wavelen = old_context / scaling.low_freq_factor;
    const double high_freq_wavelen = old_context / scaling.high_freq_factor;
    for (auto& f : inv_freq) {
      const double wavelen = 2.0 * kPi / f;
      if (wavelen > low_freq_wavelen) {
        f = f / scaling.factor;
      } else if (wavelen >= high_freq_wavelen) {
        const double smooth = (old_context / wavelen - scaling.low_freq_factor) /
                              (scaling.high_freq_factor - scaling.low_freq_factor);
        f = (1.0 - smooth) * f / scaling.factor + smooth * f;
      }
    }
    return inv_freq;
  }
  throw Error(cat("unsupported rope_scaling type '", scaling.type, "'; allowed: none, linear, llama3"));
}

std::vector<double> rope_inv_freq(int64_t head_dim, double theta, const RopeScaling& scaling) {
  std::vector<double> inv_freq = scaled_inv_freq(head_dim, theta, scaling);
  const auto& d = scaling.freq_divisors;
  if (d.empty()) return inv_freq;
  if (d.size() != inv_freq.size())
    throw Error(cat("rope: ", d.size(), " per-frequency divisors (rope_freqs) for head_dim ", head_dim,
                    "; expected head_dim / 2 = ", inv_freq.size()));
  for (size_t i = 0; i < d.size(); ++i) {
    if (!(d[i] > 0)) throw Error(cat("rope: per-frequency divisor ", i, " (rope_freqs) must be > 0, got ", d[i]));
    inv_freq[i] /= d[i];
  }
  return inv_freq;
}

RopeCache::RopeCache(std::vector<double> inv_freq) : inv_freq_(std::move(inv_freq)) {}

RopeTable RopeCache::get(int64_t num_tokens, const torch::Device& device, torch::ScalarType dtype) const {
  const Key key{num_tokens, device.str(), static_cast<int>(dtype)};
  std::lock_guard<std::mutex> lock(state_->mutex);
  auto it = state_->tables.find(key);
  if (it != state_->tables.end()) return it->second;

  const int64_t half = static_cast<int64_t>(inv_freq_.size());
  auto inv = torch::tensor(inv_freq_, torch::kFloat64);                          // [D/2]
  auto positions = torch::arange(num_tokens, torch::kFloat64);                   // [T]
  auto angles = torch::outer(positions, inv);                                    // [T, D/2]
  auto emb = torch::cat({angles, angles}, /*dim=*/-1);                           // [T, D]
  ABQ_ASSERT(emb.size(-1) == 2 * half, "rope table width");
  RopeTable table{emb.cos().to(device, dtype), emb.sin().to(device, dtype)};
  state_->tables.emplace(key, table);
  return table;
}

torch::Tensor apply_rope(const torch::Tensor& x, const RopeTable& table) {
  const int64_t half = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, half);
  auto x2 = x.narrow(-1, half, half);
  auto rotated = torch::cat({-x2, x1}, /*dim=*/-1);  // HF rotate_half
  return x * table.cos + rotated * table.sin;       // [T, D] broadcasts over [B, heads]
}

RopeTable rope_at_positions(const RopeTable& table, const torch::Tensor& positions) {
  ABQ_ASSERT(positions.dim() == 2, "rope positions must be [B, T], got ", positions.dim(), " dimensions");
  const int64_t rows = table.cos.size(0);
  if (positions.numel() > 0 && positions.max().item<int64_t>() >= rows)
    throw Error(cat("rope: position ", positions.max().item<int64_t>(), " is outside the table of ", rows,
                    " positions"));
  auto flat = positions.reshape({-1}).to(table.cos.device(), torch::kLong);
  auto pick = [&](const torch::Tensor& t) {
    return t.index_select(0, flat).view({positions.size(0), positions.size(1), t.size(1)}).unsqueeze(1);
  };
  return RopeTable{pick(table.cos), pick(table.sin)};                            // [B, 1, T, D] each
}

}  // namespace abq::model

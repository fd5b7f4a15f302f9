// Fake quantization: x -> x̂ = (q - z)·Δ with integer codes q, for every Granularity of QuantSpec.
// Matches ABQ-LLM's UniformAffineQuantizer (algorithm/quantize/quantizer.py, the OmniQuant quantizer
// plus bit balance) in the asymmetric mode, and SmoothQuant's absmax rule in the symmetric mode.
//
// Asymmetric (default), levels L = spec.levels() (2^n, or 2^n + 1 with bit balance at n <= 2):
//   m⁻ = clip_ratio·min, m⁺ = clip_ratio·max        range NOT widened to contain 0 (as the reference)
//   Δ  = clamp((m⁺ - m⁻) / (L - 1), 1e-5, 1e4)      bit balance: Δ = range / 2^n, q ∈ {0..2^n}
//   z  = ⌊clamp(-m⁻ / Δ, -1e4, 1e4)⌉
//   q  = clamp(⌊x / Δ⌉ + z, 0, L - 1),  x̂ = (q - z)·Δ
// Symmetric (no zero-point; bit_balance ignored), Q = 2^(n-1) - 1:
//   Δ  = clamp(clip_ratio·max(|min|, |max|) / Q, 1e-5, 1e4),  z = 0
//   q  = clamp(⌊x / Δ⌉, -Q, Q),  x̂ = q·Δ
//   This is SmoothQuant's W8A8 rule (absmax/127, q ∈ [-127, 127]). ABQ's symmetric mode stores
//   q + Q in [0, 2^n - 1] with z = Q, which equals ours except that with clipping (clip_ratio < 1
//   or LWC) it lets positive values reach +2^(n-1); we keep the grid symmetric. Symmetric 1-bit
//   has Q = 0 (no grid) and is rejected by validate() with a message pointing to asymmetric 1-bit.
// bits >= 16: identity (fake = x; codes, scale, zero undefined).
//
// Rounding: ⌊·⌉ is round half to even (torch::round), e.g. 0.5 -> 0, 1.5 -> 2, 2.5 -> 2.
// Arithmetic runs in float32 (float64 for float64 input); `fake` comes back in x's dtype.
//
// Gradients (straight-through estimator, as the reference's round_ste):
//   ⌊t⌉ is written (round(t) - t).detach() + t, so d⌊t⌉/dt = 1.
//   x:  dx̂/dx = 1 where q is strictly inside (q_min, q_max), 0 where the clamp is active or q sits
//       exactly on a bound (PyTorch 2.x's clamp backward; fixed here for every LibTorch version).
//   Δ:  dx̂/dΔ = ⌊x/Δ⌉ - x/Δ inside the clamp, (q - z) where clamped (the LSQ form); Δ's own clamp
//       to [1e-5, 1e4] passes no gradient outside that interval.
//   z:  by default z is rounded with a plain round, so it passes NO gradient (the reference does
//       this: round_zero_point = zero_point.clamp(...).round()). With ste_zero_point = true, z uses
//       the STE; dx̂/dz is then 0 inside the clamp (z cancels) and -Δ where clamped.
//   Ranges computed from x (compute_range / fake_quant) stay on the graph, so gradients also reach
//   x through min/max, exactly as in the reference.
//
// Shapes of min/max/scale/zero (x̂ and codes always have x's shape):
//   per_tensor   any x           []                 (0-dim)
//   per_channel  x [O, ...]      [O, 1, ..., 1]     one range per dim-0 slice (weight rows)
//                static (RangeObserver) x [..., C]: [C], one per channel of the last dim
//   per_group    x [..., K]      [..., ceil(K/G)]   groups of G consecutive elements of the last dim
//                                                   (a shorter last group when G does not divide K)
//   per_token    x [..., K]      [..., 1]           one range per vector along the last dim;
//                                                   [B, H, T, D] -> [B, H, T, 1] (token, head)
//   per_head     x [B, H, T, D]  [B, H, 1, 1]       dynamic: per sequence and head, over T and D
//                static (RangeObserver):            [1, H, 1, 1], over all batches and tokens
// Every shape but per_group's broadcasts against x; per_group's gets a trailing 1 internally.
#pragma once

#include <torch/torch.h>

#include "framework/quant/quant_spec.h"

namespace abq::quant {

/// Result of a fake quantization. codes: int32, x's shape, in [0, L-1] (asymmetric) or [-Q, Q]
/// (symmetric); undefined unless FakeQuantOptions::with_codes. scale/zero: work dtype, shapes in the
/// table above; zero is integer-valued, and all zeros for symmetric specs.
struct QuantizedTensor {
  torch::Tensor fake;
  torch::Tensor codes;
  torch::Tensor scale;
  torch::Tensor zero;
};

/// Per-group minimum and maximum of a tensor (shapes as scale).
struct QuantRange {
  torch::Tensor min;
  torch::Tensor max;
};

/// Step size Δ and zero-point z (shapes as scale).
struct QuantParams {
  torch::Tensor scale;
  torch::Tensor zero;
};

struct FakeQuantOptions {
  bool with_codes = false;      // also return the int32 codes
  bool ste_zero_point = false;  // false: z gets no gradient (reference); true: STE through z
};

/// ⌊t⌉ forward (half to even), identity backward.
torch::Tensor round_ste(const torch::Tensor& t);

/// Dynamic min/max of x per spec.granularity. Throws abq::Error for a non-float or empty x, a rank
/// the granularity cannot use (per_channel needs >= 2 dims, per_head exactly 4). per_group with a
/// group_size that does not divide K gives a shorter last group with its own range.
QuantRange compute_range(const torch::Tensor& x, const QuantSpec& spec);

/// Δ and z from a range; applies clip_ratio. Differentiable in range.min / range.max.
QuantParams params_from_range(const QuantRange& range, const QuantSpec& spec,
                              const FakeQuantOptions& options = {});

/// Quantizes x on a given grid. params must have the shape of the granularity's table row.
QuantizedTensor fake_quant_with_params(const torch::Tensor& x, const QuantParams& params,
                                       const QuantSpec& spec, const FakeQuantOptions& options = {});

/// params_from_range + fake_quant_with_params: the entry point for clipped or calibrated ranges.
QuantizedTensor fake_quant_with_range(const torch::Tensor& x, const QuantRange& range,
                                      const QuantSpec& spec, const FakeQuantOptions& options = {});

/// Dynamic fake quantization: ranges come from x itself on every call (spec.dynamic is not read;
/// callers choose between this and RangeObserver).
QuantizedTensor fake_quant(const torch::Tensor& x, const QuantSpec& spec,
                           const FakeQuantOptions& options = {});

/// (codes - zero)·scale in the work dtype; per_group scale/zero [..., ceil(K/G)] are expanded to [..., K].
torch::Tensor dequantize(const torch::Tensor& codes, const torch::Tensor& scale, const torch::Tensor& zero,
                         const QuantSpec& spec);

/// Static (calibrated) ranges: running elementwise min/max over calibration batches, then
/// quantization with that fixed range. Supports per_tensor ([]), per_channel ([C], the last dim)
/// and per_head ([1, H, 1, 1] for [B, H, T, D]); per_group and per_token ranges belong to one
/// vector and must stay dynamic.
class RangeObserver {
 public:
  /// Throws abq::Error for an invalid spec or a granularity static ranges do not support.
  explicit RangeObserver(const QuantSpec& spec);

  /// Folds x's range into the running min/max (no gradient). Throws on a channel/head count that
  /// differs from the first batch.
  void observe(const torch::Tensor& x);
  /// Quantizes x with the fixed observed range. Throws if nothing was observed.
  QuantizedTensor quantize(const torch::Tensor& x, const FakeQuantOptions& options = {}) const;

  bool has_range() const { return batches_ > 0; }
  int64_t batches() const { return batches_; }
  /// The running range (shapes above). Throws if nothing was observed.
  QuantRange range() const;
  const QuantSpec& spec() const { return spec_; }
  void reset();

 private:
  QuantRange batch_range(const torch::Tensor& x) const;

  QuantSpec spec_;
  torch::Tensor min_;
  torch::Tensor max_;
  int64_t batches_ = 0;
};

}  // namespace abq::quant

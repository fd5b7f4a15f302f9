// The exact CPU reference of the WpAq GEMM in kernels.h, on unpacked codes.
//
//   y[m,n] = sx[m] · Σ_g sw[n,g] · I[m,n,g] + bias[n]
//   I[m,n,g] = Σ_{k∈g} (xq[m,k] − zx[m])·(wq[n,k] − zw[n,g])                      (exact, int64)
//            = D − zw·Sx − zx·Sw + G·zx·zw,   D = Σ xq·wq,  Sx = Σ_{k∈g} xq,  Sw = Σ_{k∈g} wq
//
// The float epilogue, in this order and in fp32, is the contract every device path follows:
//   acc = 0;  for g: acc = fma(sw[n,g], float(I[m,n,g]), acc);  y = fma(acc, sx[m], bias[n])
// (float(I) rounds the int64 to nearest; each fma rounds once), so integer paths match bit for bit.
// Signed formats have no zero-point (zx = 0 / zw = 0). With fp16/bf16 activations (bits = 16) the
// inner sum runs in double over x values instead: I = Σ x·(wq − zw), sx = 1.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/kernels.h"

namespace abq::kernels::reference {

/// Unpacked weights: codes [N][K] (unsigned in [0, levels) or signed two's complement values),
/// scales [N][G] and zeros [N][G] (empty when signed).
struct WeightCodes {
  abq_weight_format fmt{};
  int64_t n = 0, k = 0;
  std::vector<int32_t> codes;
  std::vector<float> scales;
  std::vector<int32_t> zeros;
};

/// Unpacked activations: codes [M][K] for bits ≤ 8 with scales [M] and zeros [M] (empty when
/// signed); for bits = 16, values [M][K] (already representable in the activation dtype).
struct ActCodes {
  abq_act_format fmt{};
  int64_t m = 0, k = 0;
  std::vector<int32_t> codes;
  std::vector<float> values;
  std::vector<float> scales;
  std::vector<int32_t> zeros;
};

/// Throws abq::Error when shapes, formats, code ranges or array sizes disagree.
void validate(const WeightCodes& w);
void validate(const ActCodes& x);

/// Exact integer group sums I[m,n,g] (int64 [M][N][G]) via the folded form D − zw·Sx − zx·Sw + G·zx·zw.
std::vector<int64_t> integer_group_sums(const WeightCodes& w, const ActCodes& x);
/// The same sums computed directly as Σ (xq − zx)(wq − zw): the cross-check of the folding algebra.
std::vector<int64_t> integer_group_sums_direct(const WeightCodes& w, const ActCodes& x);

/// fp32 output [M][N] before the dtype conversion, following the epilogue order above.
/// bias may be empty (no bias) or hold N values.
std::vector<float> gemm_reference(const WeightCodes& w, const ActCodes& x, const std::vector<float>& bias);

/// Applies the fp32 epilogue to given group sums I (int64 [M][N][G]).
std::vector<float> epilogue(const std::vector<int64_t>& sums, const WeightCodes& w, const ActCodes& x,
                            const std::vector<float>& bias);

/// The naive formulation in double: Σ_k ((xq − zx)·sx)·((wq − zw)·sw) + bias, dequantizing each
/// element first; agrees with gemm_reference up to float rounding.
std::vector<double> gemm_naive(const WeightCodes& w, const ActCodes& x, const std::vector<float>& bias);

}  // namespace abq::kernels::reference

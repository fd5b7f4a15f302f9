// fp16 / bf16 <-> float conversions on the CPU, round-to-nearest-even, matching CUDA's
// __float2half_rn / __float2bfloat16_rn (NaN kept quiet, overflow to ±inf).
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/kernels.h"

namespace abq::kernels::reference {

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t float_to_bf16(float f) {
  uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16_to_float(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

inline uint16_t float_to_half(float f) {
  const uint32_t u = float_bits(f);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to ≥ 65520: inf
  if (abs < 0x38800000u) {
    // Subnormal half (|f| < 2^-14): value / 2^-24 rounded to nearest even.
    const int exp = static_cast<int>(abs >> 23);  // biased float exponent
    if (exp < 102) return static_cast<uint16_t>(sign);  // below half of the smallest subnormal
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const int shift = 126 - exp;  // mant · 2^(exp-150) / 2^-24 = mant >> (126 - exp)
    uint32_t q = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) ++q;
    return static_cast<uint16_t>(sign | q);
  }
  // Normal: rebias the exponent (127 → 15), round 23 → 10 mantissa bits to nearest even; a carry
  // out of the mantissa correctly bumps the exponent.
  uint32_t v = abs - (112u << 23);
  v += 0xfffu + ((v >> 13) & 1u);
  return static_cast<uint16_t>(sign | (v >> 13));
}

inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {
    const float v = static_cast<float>(mant) * (1.0f / 16777216.0f);  // mant · 2^-24
    return sign ? -v : v;
  }
  if (exp == 31) return bits_float(sign | 0x7f800000u | (mant << 13));
  return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

/// Rounds to the output dtype and back: the value a device write of `f` stores.
inline uint16_t float_to_dtype(float f, abq_dtype d) { return d == ABQ_DTYPE_BF16 ? float_to_bf16(f) : float_to_half(f); }
inline float dtype_to_float(uint16_t h, abq_dtype d) { return d == ABQ_DTYPE_BF16 ? bf16_to_float(h) : half_to_float(h); }

}  // namespace abq::kernels::reference

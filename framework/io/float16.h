// IEEE binary16 (F16) and bfloat16 (BF16) to float32, bit-exact, for the GGUF and safetensors readers,
// and float32 to binary16 for the GGUF writer.
// No hardware half type is assumed: the conversion is done on the bit patterns.
#pragma once

#include <cstdint>
#include <cstring>

namespace abq::io {

/// binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Subnormals, inf and NaN are kept.
inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf / NaN (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);  // 112 = 127 - 15
  } else if (mant == 0) {
    bits = sign;  // +-0
  } else {
    // subnormal: value = mant * 2^-24; normalise into a float32 normal
    int e = -1;
    do {
      mant <<= 1;
      ++e;
    } while ((mant & 0x400u) == 0);
    bits = sign | static_cast<uint32_t>(112 - e) << 23 | ((mant & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// float32 -> binary16, rounded to nearest with ties to even (IEEE 754's default, as ggml's and
/// LibTorch's conversions round); overflow gives inf, NaN stays NaN (quiet), subnormals are kept.
inline uint16_t f32_to_f16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));  // NaN
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520: rounds to inf
  if (abs < 0x38800000u) {
    // Below 2^-14: a binary16 subnormal, m * 2^-24. Shift the full 24-bit significand into place.
    if (abs < 0x33000000u) return sign;  // below 2^-25: rounds to +-0 (2^-25 itself ties to even 0)
    const uint32_t exp = abs >> 23;
    const uint32_t mant = (abs & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - exp;  // value / 2^-24 = mant * 2^(exp - 126)
    uint32_t h = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  // Normal: rebias the exponent (127 -> 15) and round the 23-bit mantissa to 10 bits.
  uint32_t h = ((abs >> 23) - 112) << 10 | ((abs >> 13) & 0x3FFu);
  const uint32_t rest = abs & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry may step into the exponent: still right
  return static_cast<uint16_t>(sign | h);
}

/// bfloat16 is the top half of a float32.
inline float bf16_to_f32(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// Little-endian loads from possibly unaligned bytes (the formats are little-endian on disk).
inline uint16_t load_u16le(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t load_u32le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
inline uint64_t load_u64le(const uint8_t* p) {
  return static_cast<uint64_t>(load_u32le(p)) | static_cast<uint64_t>(load_u32le(p + 4)) << 32;
}
inline float load_f32le(const uint8_t* p) {
  const uint32_t bits = load_u32le(p);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace abq::io

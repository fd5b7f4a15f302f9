// IEEE binary16 (F16) and bfloat16 (BF16) to float32, bit-exact, for the GGUF and safetensors readers.
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

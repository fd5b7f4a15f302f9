#include "framework/io/gguf_dequant.h"

#include "framework/core/error.h"
#include "framework/io/float16.h"

namespace abq::io {
namespace {

constexpr int64_t kQK = 32;    // elements per block of the "legacy" types Q4_0 .. Q8_0
constexpr int64_t kQKK = 256;  // elements per super-block of the k-quants

inline float half_at(const uint8_t* p) { return f16_to_f32(load_u16le(p)); }

// Q4_0 block (18 bytes): half d | u8 qs[16]. Element j (j < 16) is the low nibble of qs[j],
// element j + 16 the high nibble; x = d * (nibble - 8).
void dequant_q4_0(const uint8_t* b, float* y) {
  const float d = half_at(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * (static_cast<int>(qs[j] & 0x0F) - 8);
    y[j + 16] = d * (static_cast<int>(qs[j] >> 4) - 8);
  }
}

// Q4_1 block (20 bytes): half d | half m | u8 qs[16]; same nibble order as Q4_0; x = d * q + m.
void dequant_q4_1(const uint8_t* b, float* y) {
  const float d = half_at(b);
  const float m = half_at(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * (qs[j] & 0x0F) + m;
    y[j + 16] = d * (qs[j] >> 4) + m;
  }
}

// Q5_0 block (22 bytes): half d | u8 qh[4] (32 high bits, LE u32) | u8 qs[16].
// Element j: low 4 bits = low nibble of qs[j], 5th bit = bit j of qh; element j + 16: high nibble,
// bit j + 16 of qh. x = d * (q - 16).
void dequant_q5_0(const uint8_t* b, float* y) {
  const float d = half_at(b);
  const uint32_t qh = load_u32le(b + 2);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 0x0F) | (((qh >> j) & 1u) << 4);
    const int hi = (qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4);
    y[j] = d * (lo - 16);
    y[j + 16] = d * (hi - 16);
  }
}

// Q5_1 block (24 bytes): half d | half m | u8 qh[4] | u8 qs[16]; bits as Q5_0; x = d * q + m.
void dequant_q5_1(const uint8_t* b, float* y) {
  const float d = half_at(b);
  const float m = half_at(b + 2);
  const uint32_t qh = load_u32le(b + 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 0x0F) | (((qh >> j) & 1u) << 4);
    const int hi = (qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4);
    y[j] = d * lo + m;
    y[j + 16] = d * hi + m;
  }
}

// Q8_0 block (34 bytes): half d | i8 qs[32]; x = d * q.
void dequant_q8_0(const uint8_t* b, float* y) {
  const float d = half_at(b);
  for (int j = 0; j < 32; ++j) y[j] = d * static_cast<int8_t>(b[2 + j]);
}

// The 12 scale bytes of Q4_K / Q5_K pack eight 6-bit (scale, min) pairs, one per 32-element
// sub-block j:
//   j < 4:  scale = s[j] & 63,                         min = s[j + 4] & 63
//   j >= 4: scale = (s[j + 4] & 15) | (s[j - 4] >> 6) << 4,
//           min   = (s[j + 4] >> 4) | (s[j]     >> 6) << 4
void scale_min_k4(int j, const uint8_t* s, int* scale, int* min) {
  if (j < 4) {
    *scale = s[j] & 63;
    *min = s[j + 4] & 63;
  } else {
    *scale = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q4_K super-block (144 bytes): half d | half dmin | u8 scales[12] | u8 qs[128].
// 256 elements in four 64-element chunks c; chunk c uses qs[32c .. 32c+31]: its first 32 elements
// are the low nibbles (sub-block 2c), the next 32 the high nibbles (sub-block 2c+1).
// x = d * scale[sb] * q - dmin * min[sb].
void dequant_q4_k(const uint8_t* b, float* y) {
  const float d = half_at(b);
  const float dmin = half_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qs = b + 16;
  for (int c = 0; c < 4; ++c) {
    int sc, mn;
    scale_min_k4(2 * c, scales, &sc, &mn);
    const float d1 = d * sc, m1 = dmin * mn;
    scale_min_k4(2 * c + 1, scales, &sc, &mn);
    const float d2 = d * sc, m2 = dmin * mn;
    const uint8_t* q = qs + 32 * c;
    for (int l = 0; l < 32; ++l) y[64 * c + l] = d1 * (q[l] & 0x0F) - m1;
    for (int l = 0; l < 32; ++l) y[64 * c + 32 + l] = d2 * (q[l] >> 4) - m2;
  }
}

// Q5_K super-block (176 bytes): half d | half dmin | u8 scales[12] | u8 qh[32] | u8 qs[128].
// As Q4_K, plus a 5th bit per element: in chunk c, element l of the low half takes bit 2c of
// qh[l], element l of the high half bit 2c+1. x = d * scale[sb] * q - dmin * min[sb].
void dequant_q5_k(const uint8_t* b, float* y) {
  const float d = half_at(b);
  const float dmin = half_at(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + 48;
  for (int c = 0; c < 4; ++c) {
    int sc, mn;
    scale_min_k4(2 * c, scales, &sc, &mn);
    const float d1 = d * sc, m1 = dmin * mn;
    scale_min_k4(2 * c + 1, scales, &sc, &mn);
    const float d2 = d * sc, m2 = dmin * mn;
    const uint8_t* q = qs + 32 * c;
    const uint8_t u1 = static_cast<uint8_t>(1u << (2 * c)), u2 = static_cast<uint8_t>(2u << (2 * c));
    for (int l = 0; l < 32; ++l) y[64 * c + l] = d1 * ((q[l] & 0x0F) + ((qh[l] & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) y[64 * c + 32 + l] = d2 * ((q[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
  }
}

// Q6_K super-block (210 bytes): u8 ql[128] | u8 qh[64] | i8 scales[16] | half d.
// Two 128-element halves n; half n uses ql[64n ..], qh[32n ..], scales[8n ..]. For l < 32:
//   q1 = (ql[l]      & 15) | ((qh[l] >> 0) & 3) << 4  -> element l,      scale[l/16]
//   q2 = (ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4  -> element l + 32, scale[l/16 + 2]
//   q3 = (ql[l]      >> 4) | ((qh[l] >> 4) & 3) << 4  -> element l + 64, scale[l/16 + 4]
//   q4 = (ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4  -> element l + 96, scale[l/16 + 6]
// x = d * scale * (q - 32).
void dequant_q6_k(const uint8_t* b, float* y) {
  const float d = half_at(b + 208);
  for (int n = 0; n < 2; ++n) {
    const uint8_t* ql = b + 64 * n;
    const uint8_t* qh = b + 128 + 32 * n;
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192 + 8 * n);
    float* out = y + 128 * n;
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      out[l] = d * sc[is] * q1;
      out[l + 32] = d * sc[is + 2] * q2;
      out[l + 64] = d * sc[is + 4] * q3;
      out[l + 96] = d * sc[is + 6] * q4;
    }
  }
}

}  // namespace

GgmlTypeTraits ggml_type_traits(uint32_t id) {
  switch (static_cast<GgmlType>(id)) {
    case GgmlType::F32: return {"F32", 1, 4, true};
    case GgmlType::F16: return {"F16", 1, 2, true};
    case GgmlType::Q4_0: return {"Q4_0", kQK, 18, true};
    case GgmlType::Q4_1: return {"Q4_1", kQK, 20, true};
    case GgmlType::Q5_0: return {"Q5_0", kQK, 22, true};
    case GgmlType::Q5_1: return {"Q5_1", kQK, 24, true};
    case GgmlType::Q8_0: return {"Q8_0", kQK, 34, true};
    case GgmlType::Q8_1: return {"Q8_1", kQK, 36, false};
    case GgmlType::Q2_K: return {"Q2_K", kQKK, 84, false};
    case GgmlType::Q3_K: return {"Q3_K", kQKK, 110, false};
    case GgmlType::Q4_K: return {"Q4_K", kQKK, 144, true};
    case GgmlType::Q5_K: return {"Q5_K", kQKK, 176, true};
    case GgmlType::Q6_K: return {"Q6_K", kQKK, 210, true};
    case GgmlType::Q8_K: return {"Q8_K", kQKK, 292, false};
    case GgmlType::IQ2_XXS: return {"IQ2_XXS", kQKK, 66, false};
    case GgmlType::IQ2_XS: return {"IQ2_XS", kQKK, 74, false};
    case GgmlType::IQ3_XXS: return {"IQ3_XXS", kQKK, 98, false};
    case GgmlType::IQ1_S: return {"IQ1_S", kQKK, 50, false};
    case GgmlType::IQ4_NL: return {"IQ4_NL", kQK, 18, false};
    case GgmlType::IQ3_S: return {"IQ3_S", kQKK, 110, false};
    case GgmlType::IQ2_S: return {"IQ2_S", kQKK, 82, false};
    case GgmlType::IQ4_XS: return {"IQ4_XS", kQKK, 136, false};
    case GgmlType::I8: return {"I8", 1, 1, false};
    case GgmlType::I16: return {"I16", 1, 2, false};
    case GgmlType::I32: return {"I32", 1, 4, false};
    case GgmlType::I64: return {"I64", 1, 8, false};
    case GgmlType::F64: return {"F64", 1, 8, false};
    case GgmlType::IQ1_M: return {"IQ1_M", kQKK, 56, false};
    case GgmlType::BF16: return {"BF16", 1, 2, true};
    case GgmlType::TQ1_0: return {"TQ1_0", kQKK, 54, false};
    case GgmlType::TQ2_0: return {"TQ2_0", kQKK, 66, false};
  }
  return {nullptr, 0, 0, false};
}

std::string ggml_type_name(GgmlType type) {
  const GgmlTypeTraits t = ggml_type_traits(static_cast<uint32_t>(type));
  return t.name ? std::string(t.name) : cat("type#", static_cast<uint32_t>(type));
}

void dequantize_row(GgmlType type, const uint8_t* src, float* dst, int64_t n_elems) {
  const GgmlTypeTraits t = ggml_type_traits(static_cast<uint32_t>(type));
  ABQ_ASSERT(t.name != nullptr && t.dequantizable, "type ", ggml_type_name(type));
  ABQ_ASSERT(n_elems % t.block_elems == 0, n_elems, " elements of ", t.name);
  const int64_t n_blocks = n_elems / t.block_elems;
  void (*block_fn)(const uint8_t*, float*) = nullptr;
  switch (type) {
    case GgmlType::F32:
      for (int64_t i = 0; i < n_elems; ++i) dst[i] = load_f32le(src + 4 * i);
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n_elems; ++i) dst[i] = f16_to_f32(load_u16le(src + 2 * i));
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n_elems; ++i) dst[i] = bf16_to_f32(load_u16le(src + 2 * i));
      return;
    case GgmlType::Q4_0: block_fn = dequant_q4_0; break;
    case GgmlType::Q4_1: block_fn = dequant_q4_1; break;
    case GgmlType::Q5_0: block_fn = dequant_q5_0; break;
    case GgmlType::Q5_1: block_fn = dequant_q5_1; break;
    case GgmlType::Q8_0: block_fn = dequant_q8_0; break;
    case GgmlType::Q4_K: block_fn = dequant_q4_k; break;
    case GgmlType::Q5_K: block_fn = dequant_q5_k; break;
    case GgmlType::Q6_K: block_fn = dequant_q6_k; break;
    default: ABQ_ASSERT(false, "no decoder for ", t.name);
  }
  for (int64_t i = 0; i < n_blocks; ++i) block_fn(src + i * t.block_bytes, dst + i * t.block_elems);
}

}  // namespace abq::io

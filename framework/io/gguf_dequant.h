// ggml tensor types: the block size and byte size of each, and dequantization of the common ones
// to float32. Layouts follow the public ggml block structs (ggml-common.h); each one is written out
// beside its decoder in gguf_dequant.cpp. All multi-byte fields are little-endian; "half" is IEEE
// binary16.
//
//   type   elements/block  bytes/block  block layout
//   F32          1              4       float
//   F16          1              2       half
//   BF16         1              2       bfloat16
//   Q4_0        32             18       half d; u8 qs[16]                      x = d * (q - 8)
//   Q4_1        32             20       half d, m; u8 qs[16]                   x = d * q + m
//   Q5_0        32             22       half d; u8 qh[4]; u8 qs[16]            x = d * (q - 16)
//   Q5_1        32             24       half d, m; u8 qh[4]; u8 qs[16]         x = d * q + m
//   Q8_0        32             34       half d; i8 qs[32]                      x = d * q
//   Q4_K       256            144       half d, dmin; u8 scales[12]; u8 qs[128]
//   Q5_K       256            176       half d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]
//   Q6_K       256            210       u8 ql[128]; u8 qh[64]; i8 scales[16]; half d
// Other types (Q2_K, Q3_K, Q8_K, IQ*, TQ*, integer types) are known by size only, so a file using
// them still opens, but dequantize() refuses them with an error naming the tensor and the type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace abq::io {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35,
};

struct GgmlTypeTraits {
  const char* name;     // "Q4_K"; nullptr for an id this reader does not know
  int64_t block_elems;  // elements per block (1 for plain types)
  int64_t block_bytes;  // bytes per block
  bool dequantizable;   // dequantize_row() handles it
};

/// Traits for a raw type id read from a file; name == nullptr when the id is unknown.
GgmlTypeTraits ggml_type_traits(uint32_t type_id);
/// "Q4_K", or "type#N" for an unknown id.
std::string ggml_type_name(GgmlType type);

/// Decodes `n_elems` consecutive elements of `type` from `src` into `dst`.
/// Preconditions (checked by the caller, the GGUF reader): the type is dequantizable,
/// n_elems is a multiple of block_elems, and src holds n_elems / block_elems * block_bytes bytes.
void dequantize_row(GgmlType type, const uint8_t* src, float* dst, int64_t n_elems);

}  // namespace abq::io

// write_gguf: one GGUF v3 file from metadata values and tensor bytes, in the layout gguf.h reads
// (magic, version 3, counts, key/value pairs, tensor infos, padding to general.alignment, data
// section with every tensor at a multiple of the alignment). Plus the encoders of the three
// ggml block types abq exports, from integer codes and fp16 scales (layouts in gguf_dequant.h):
//   Q4_0  half d | u8 qs[16]           element j < 16 in the low nibble of qs[j], j + 16 in the
//                                      high nibble; nibble = code + 8, code in [-8, 7]; x = d·code
//   Q4_1  half d | half m | u8 qs[16]  same nibbles, nibble = code in [0, 15]; x = d·code + m
//   Q8_0  half d | i8 qs[32]           qs[j] = code in [-128, 127]; x = d·code
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/io/gguf.h"

namespace abq::io {

struct GgufKeyValue {
  std::string key;
  GgufValue value;  // as GgufFile reads it: the scalar field or the array of elem_type that `type` names
};

struct GgufTensorToWrite {
  std::string name;
  std::vector<int64_t> shape;  // ggml order: shape[0] = ne[0], the row length
  GgmlType type = GgmlType::F32;
  std::vector<uint8_t> bytes;  // numel / block_elems · block_bytes bytes, rows of whole blocks
};

/// Writes `path` (replaced if present). general.alignment, when among `metadata`, sets the
/// alignment (a power of two); otherwise it is 32. Throws abq::Error naming the key or tensor for a
/// duplicate name, a shape whose row is not whole blocks of its type, a byte count that does not
/// match the shape, or a value whose fields do not match its type; and naming the file on I/O failure.
void write_gguf(const std::string& path, const std::vector<GgufKeyValue>& metadata,
                const std::vector<GgufTensorToWrite>& tensors);

/// Metadata value helpers.
GgufValue gguf_string(const std::string& s);
GgufValue gguf_u32(uint32_t v);
GgufValue gguf_f32(float v);

/// The bytes of n / 32 blocks of `type` (Q4_0, Q4_1 or Q8_0) holding codes[n] (in the type's code
/// range above), one fp16 d (and, for Q4_1, one fp16 m) per block of 32 consecutive elements.
/// Throws abq::Error naming the element for a code outside the range, or for n not a multiple of 32.
std::vector<uint8_t> encode_gguf_blocks(GgmlType type, const int32_t* codes, const uint16_t* d, const uint16_t* m,
                                        int64_t n);

}  // namespace abq::io

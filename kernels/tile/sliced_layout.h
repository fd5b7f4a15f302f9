// The sliced weight layout of ABQ_PATH_INT8_UNPACK and ABQ_PATH_WEIGHT_ONLY: the layout contract
// shared by the CPU packer (reference/sliced_pack.cpp) and the device unpackers (tile/), host and
// device code alike, so the two cannot drift apart.
//
// A p-bit code is split into slices of width 8, 4, 2 or 1 bits (largest first, FLUTE-style 2+1 for
// p = 3): p=1 {1}, 2 {2}, 3 {2,1}, 4 {4}, 5 {4,1}, 6 {4,2}, 7 {4,2,1}, 8 {8}. Slice s holds code
// bits [shift_s, shift_s + w_s) with shift_0 = 0.
//
// Storage: slice after slice; slice s is row-major uint32 [N][K·w_s/32]. Total N·K·p/32 words.
// Inside a slice row, element k lives in word k / (32/w) at element e = k % (32/w) of that word,
// bit position 8·(e % 4) + w·(e / 4). So elements 4j..4j+3 of a word sit in the four byte lanes at
// sub-position j, and one shift + mask by 0x01010101·(2^w − 1) yields four of them as bytes:
//
//   u8x4(k..k+3) = OR_s ((word_s >> (w_s·j_s)) & mask_s) << shift_s        (k % 4 == 0)
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define ABQ_HD __host__ __device__ __forceinline__
#else
#define ABQ_HD inline
#endif

namespace abq::kernels::tile {

constexpr int kMaxSlices = 3;

struct SliceSet {
  int count = 0;
  int width[kMaxSlices] = {0, 0, 0};
  int shift[kMaxSlices] = {0, 0, 0};
  int64_t word_offset_per_nk32[kMaxSlices] = {0, 0, 0};  // slice start, in units of N·K/32 words
};

/// Slices of a p-bit code (p in 1..8), largest width first.
ABQ_HD SliceSet slices_for_bits(int bits) {
  SliceSet s;
  int remaining = bits, shift = 0, offset = 0;
  const int widths[4] = {8, 4, 2, 1};
  for (int i = 0; i < 4 && remaining > 0; ++i) {
    if (widths[i] <= remaining) {
      s.width[s.count] = widths[i];
      s.shift[s.count] = shift;
      s.word_offset_per_nk32[s.count] = offset;
      shift += widths[i];
      offset += widths[i];
      remaining -= widths[i];
      ++s.count;
    }
  }
  return s;
}

/// Words of one slice row: K·w/32.
ABQ_HD int64_t slice_row_words(int64_t k, int width) { return k * width / 32; }

/// Bit position of element e (0 ≤ e < 32/w) inside its word.
ABQ_HD int slice_bit_position(int e, int width) { return 8 * (e % 4) + width * (e / 4); }

/// Byte mask selecting one w-bit field per byte lane.
ABQ_HD uint32_t slice_byte_mask(int width) {
  return 0x01010101u * ((1u << width) - 1u);
}

/// Four consecutive elements (k0 % 4 == 0) of one slice row as bytes.
ABQ_HD uint32_t slice_extract4(const uint32_t* slice_row, int64_t k0, int width) {
  const int64_t per_word = 32 / width;
  const uint32_t word = slice_row[k0 / per_word];
  const int j = static_cast<int>((k0 % per_word) / 4);
  return (word >> (width * j)) & slice_byte_mask(width);
}

}  // namespace abq::kernels::tile

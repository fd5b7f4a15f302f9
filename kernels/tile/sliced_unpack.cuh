// Device unpacking of the sliced layout (contract in tile/sliced_layout.h) to four u8 codes per
// 32-bit register, in the k order the m16n8k32 A fragment and the GEMV consume (k, k+1, k+2, k+3
// in byte lanes 0..3). Signed codes are turned into offset binary (u ^ 2^(p−1) = s + 2^(p−1)) so
// every path multiplies unsigned bytes; the caller adds 2^(p−1) to the zero-point. Host and device
// code alike (the CPU tests emulate the int8 path with it).
#pragma once

#include <cstdint>

#include "kernels/tile/sliced_layout.h"

namespace abq::kernels::tile {

/// Per-matrix view of the slices: base pointer and row length in words of each slice.
struct SlicedView {
  const uint32_t* base[kMaxSlices];
  int64_t row_words[kMaxSlices];
  int width[kMaxSlices];
  int shift[kMaxSlices];
  int count;
  uint32_t flip;  // 0x01010101 · 2^(p−1) for signed formats, else 0
};

inline SlicedView make_sliced_view(const uint32_t* words, int64_t n, int64_t k, int bits, bool is_signed) {
  SlicedView v{};
  const SliceSet s = slices_for_bits(bits);
  v.count = s.count;
  for (int i = 0; i < kMaxSlices; ++i) {
    v.width[i] = s.width[i];
    v.shift[i] = s.shift[i];
    v.row_words[i] = i < s.count ? slice_row_words(k, s.width[i]) : 0;
    v.base[i] = i < s.count ? words + s.word_offset_per_nk32[i] * (n * k / 32) : nullptr;
  }
  v.flip = is_signed ? 0x01010101u * (1u << (bits - 1)) : 0u;
  return v;
}

/// Codes of row n at k0..k0+3 (k0 % 4 == 0) as four unsigned bytes.
ABQ_HD uint32_t unpack_u8x4(const SlicedView& v, int64_t n, int64_t k0) {
  uint32_t bytes = 0;
#if defined(__CUDACC__)
#pragma unroll
#endif
  for (int i = 0; i < kMaxSlices; ++i)
    if (i < v.count) bytes |= slice_extract4(v.base[i] + n * v.row_words[i], k0, v.width[i]) << v.shift[i];
  return bytes ^ v.flip;
}

}  // namespace abq::kernels::tile

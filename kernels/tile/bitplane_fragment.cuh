// Fragment contract of the bit-plane path (reference/bitplane_pack.h layout, mma m8n8k128 b1):
// for a 128-k step s, lane (g = lane/4, t = lane%4) of a warp loads word 4s + t of row g of every
// plane: one 32-bit register per plane and operand row, 32 consecutive k per register. Group size
// 64 splits a step in two halves (t ∈ {0,1} and {2,3}); a half is selected by zeroing the other
// lanes' A registers, so AND+popc only counts that half.
#pragma once

#include <cstdint>

namespace abq::kernels::tile {

/// Weight of plane b: 2^b, negative for the top plane of a signed operand (ABQ-LLM's rule).
__device__ __forceinline__ int plane_weight(int b, int bits, bool is_signed) {
  return (is_signed && b == bits - 1) ? -(1 << b) : (1 << b);
}

/// One plane word of row `row` (0 when the row is past the end: ragged M / N tiles read zeros).
__device__ __forceinline__ uint32_t load_plane_word(const uint32_t* planes, int plane, int64_t rows, int64_t row,
                                                    int64_t words_per_row, int64_t word) {
  return row < rows ? __ldg(planes + (plane * rows + row) * words_per_row + word) : 0u;
}

}  // namespace abq::kernels::tile

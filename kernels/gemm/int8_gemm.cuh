// Int8-unpack WpAq GEMM on mma.sync m16n8k32 u8×u8 (sm_80+): weights unpacked from the sliced
// layout to bytes in registers, activations read as int8 containers.
//
// Computes y[m,n] = sx[m]·Σ_g sw[n,g]·(D − zw·Sx − zx·Sw + G·zx·zw) + bias[n], D = Σ xq·wq per
// group (reference/gemm_reference.h). Signed operands are shifted to offset binary on load (weights:
// u ^ 2^(p−1), tile/sliced_unpack.cuh; activations: byte ^ 0x80) and their zero-point becomes
// 2^(p−1) / 128, so the MMA always sees unsigned bytes.
//
// Following spec kernels-hopper.md §8.1 (K1), weights sit on the MMA's M side (16 output
// channels) and tokens on the n8 side, so decode with M ≤ 8 wastes no weight rows. A CTA of 4 warps
// covers 64 output channels × 8 tokens; each warp 16 × 8, one 32-k step at a time, accumulating a
// whole group in the MMA's int32 C before the fold. Group sums come from __dp4a over the fragments.
#pragma once

#include "kernels/arch/mma_sm80.cuh"
#include "kernels/gemm/gemm_params.h"
#include "kernels/tile/epilogue.cuh"
#include "kernels/tile/sliced_unpack.cuh"

namespace abq::kernels::gemm {

constexpr int kInt8Warps = 4;
constexpr int kInt8WarpN = 16;                        // output channels per warp (MMA M side)
constexpr int kInt8TileN = kInt8Warps * kInt8WarpN;   // output channels per CTA
constexpr int kInt8TileM = 8;                         // tokens per CTA (MMA n8 side)

// ---- kernels

__global__ void __launch_bounds__(kInt8Warps * 32) int8_gemm_kernel(GemmParams p, tile::SlicedView wv) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kInt8TileM;
  const int64_t n0 = (static_cast<int64_t>(blockIdx.x) * kInt8Warps + warp) * kInt8WarpN;
  const int64_t row_lo = n0 + g, row_hi = n0 + g + 8;  // output channels of this lane's A rows
  const int64_t token = m0 + g;                       // token of this lane's B column
  const auto* x8 = static_cast<const uint8_t*>(p.x);
  const uint32_t x_flip = p.x_signed ? 0x80808080u : 0u;
  const int w_offset_zero = p.w_signed ? (1 << (p.w_bits - 1)) : 0;

  float facc[4] = {};
  int dacc[4] = {};
  int sx_acc = 0, sw_lo = 0, sw_hi = 0;

  for (int64_t s = 0; s < p.k / 32; ++s) {
    const int64_t k0 = s * 32 + 4 * t;
    uint32_t a[4];
    a[0] = row_lo < p.n ? tile::unpack_u8x4(wv, row_lo, k0) : 0u;
    a[1] = row_hi < p.n ? tile::unpack_u8x4(wv, row_hi, k0) : 0u;
    a[2] = row_lo < p.n ? tile::unpack_u8x4(wv, row_lo, k0 + 16) : 0u;
    a[3] = row_hi < p.n ? tile::unpack_u8x4(wv, row_hi, k0 + 16) : 0u;
    uint32_t b[2] = {0u, 0u};
    if (token < p.m) {
      b[0] = __ldg(reinterpret_cast<const uint32_t*>(x8 + token * p.k + k0)) ^ x_flip;
      b[1] = __ldg(reinterpret_cast<const uint32_t*>(x8 + token * p.k + k0 + 16)) ^ x_flip;
    }
    arch::MmaU8M16N8K32::run(dacc, a, b, dacc);
    sx_acc += tile::quad_sum(static_cast<int>(__dp4a(b[0], 0x01010101u, __dp4a(b[1], 0x01010101u, 0u))));
    sw_lo += tile::quad_sum(static_cast<int>(__dp4a(a[0], 0x01010101u, __dp4a(a[2], 0x01010101u, 0u))));
    sw_hi += tile::quad_sum(static_cast<int>(__dp4a(a[1], 0x01010101u, __dp4a(a[3], 0x01010101u, 0u))));

    const int64_t k_end = (s + 1) * 32;
    if (k_end % p.group_len == 0) {  // warp-uniform: the group ends here
      const int64_t gi = (k_end - 1) / p.group_len;
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int col = 2 * t + (r & 1);  // token column of C element r; its Sx sits in quad `col`
        const int sx = __shfl_sync(0xffffffffu, sx_acc, 4 * col);
        const int64_t m = m0 + col;
        const int64_t n = r < 2 ? row_lo : row_hi;
        const int zx = p.x_signed ? 128 : (p.x_zeros != nullptr && m < p.m ? p.x_zeros[m] : 0);
        float scale = 0.0f;
        int zw = w_offset_zero;
        if (n < p.n) {
          scale = p.w_scales[n * p.groups + gi];
          if (p.w_zeros != nullptr) zw = p.w_zeros[n * p.groups + gi];
        }
        facc[r] = tile::fold_group(facc[r], dacc[r], sx, r < 2 ? sw_lo : sw_hi, zx, zw, p.group_len, scale);
        dacc[r] = 0;
      }
      sx_acc = sw_lo = sw_hi = 0;
    }
  }

#pragma unroll
  for (int r = 0; r < 4; ++r) {
    const int64_t m = m0 + 2 * t + (r & 1);
    const int64_t n = r < 2 ? row_lo : row_hi;
    if (m < p.m && n < p.n)
      tile::store_output(p.y, m * p.n + n, __fmaf_rn(facc[r], p.x_scales[m], p.bias != nullptr ? p.bias[n] : 0.0f),
                         p.out_dtype);
  }
}

}  // namespace abq::kernels::gemm

// Bit-plane WpAq GEMM on mma.sync m8n8k128 b1 AND+popc (sm_80+), ABQ-LLM's arithmetic with the
// zero-point fold and per-group scales in a register epilogue.
//
// Computes y[m,n] = sx[m]·Σ_g sw[n,g]·(D − zw·Sx − zx·Sw + G·zx·zw) + bias[n] with
// D = Σ_i Σ_j s_ij 2^(i+j) popc(X_i AND W_j) per group (reference/bitplane_gemm_emulation.h,
// checked against reference/gemm_reference.h). Layout: reference/bitplane_pack.h for both
// operands; fragment contract: tile/bitplane_fragment.cuh.
//
// Tiling: a CTA of 4 warps covers 8 rows (M) × 128 columns (N); each warp 8 × 32 (four n8 MMA
// tiles), one 128-k step at a time, operands straight from global memory (L1/L2) into fragment
// registers. Plane counts are runtime values (no per-bits instantiation): loops run to 8 with a
// guard so register arrays keep compile-time indices. Group sums Sx / Sw come from popcounts of
// the same fragments, so no precomputed sums are needed.
#pragma once

#include "kernels/arch/mma_sm80.cuh"
#include "kernels/gemm/gemm_params.h"
#include "kernels/tile/bitplane_fragment.cuh"
#include "kernels/tile/epilogue.cuh"

namespace abq::kernels::gemm {

constexpr int kBitplaneWarps = 4;
constexpr int kBitplaneTileM = 8;
constexpr int kBitplaneWarpN = 32;
constexpr int kBitplaneTileN = kBitplaneWarps * kBitplaneWarpN;

// ---- kernels

__global__ void __launch_bounds__(kBitplaneWarps * 32) bitplane_gemm_kernel(GemmParams p) {
  static_assert(kBitplaneWarpN % 8 == 0, "warp tile is a whole number of n8 MMA tiles");
  constexpr int kTiles = kBitplaneWarpN / 8;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int g = lane >> 2, t = lane & 3;
  const int64_t row = static_cast<int64_t>(blockIdx.y) * kBitplaneTileM + g;
  const int64_t n0 = (static_cast<int64_t>(blockIdx.x) * kBitplaneWarps + warp) * kBitplaneWarpN;
  const int64_t words = p.k / 32;
  const int halves = p.group_len == 64 ? 2 : 1;
  const auto* xp = static_cast<const uint32_t*>(p.x);

  float facc[kTiles][2] = {};
  int dacc[kTiles][2] = {};
  int sw_acc[kTiles] = {};
  int sx_acc = 0;
  const int zx = (p.x_zeros != nullptr && row < p.m) ? p.x_zeros[row] : 0;

  for (int64_t s = 0; s < p.k / 128; ++s) {
    uint32_t a[8], b[8][kTiles];
#pragma unroll
    for (int i = 0; i < 8; ++i) a[i] = i < p.x_bits ? tile::load_plane_word(xp, i, p.m, row, words, 4 * s + t) : 0u;
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int c = 0; c < kTiles; ++c)
        b[j][c] = j < p.w_bits ? tile::load_plane_word(p.w, j, p.n, n0 + 8 * c + g, words, 4 * s + t) : 0u;

    for (int h = 0; h < halves; ++h) {
      const bool active = halves == 1 || (t >> 1) == h;
      int sx_part = 0, sw_part[kTiles] = {};
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        if (i < p.x_bits) {
          const uint32_t ai = active ? a[i] : 0u;
          const int wi = tile::plane_weight(i, p.x_bits, p.x_signed);
          sx_part += wi * __popc(ai);
#pragma unroll
          for (int j = 0; j < 8; ++j) {
            if (j < p.w_bits) {
              const int wij = wi * tile::plane_weight(j, p.w_bits, p.w_signed);
#pragma unroll
              for (int c = 0; c < kTiles; ++c) {
                int d[2];
                const int zero[2] = {0, 0};
                arch::MmaB1AndM8N8K128::run(d, ai, b[j][c], zero);
                dacc[c][0] += wij * d[0];
                dacc[c][1] += wij * d[1];
              }
            }
          }
        }
      }
#pragma unroll
      for (int j = 0; j < 8; ++j)
#pragma unroll
        for (int c = 0; c < kTiles; ++c)
          if (j < p.w_bits && active) sw_part[c] += tile::plane_weight(j, p.w_bits, p.w_signed) * __popc(b[j][c]);
      sx_acc += tile::quad_sum(sx_part);
#pragma unroll
      for (int c = 0; c < kTiles; ++c) sw_acc[c] += tile::quad_sum(sw_part[c]);

      const int64_t k_end = s * 128 + (h + 1) * (128 / halves);
      if (k_end % p.group_len == 0) {  // warp-uniform: the group ends here
        const int64_t gi = (k_end - 1) / p.group_len;
#pragma unroll
        for (int c = 0; c < kTiles; ++c) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int col = 2 * t + e;  // C fragment column; its Sw sits in quad `col`
            const int sw = __shfl_sync(0xffffffffu, sw_acc[c], 4 * col);
            const int64_t n = n0 + 8 * c + col;
            float scale = 0.0f;
            int zw = 0;
            if (n < p.n) {
              scale = p.w_scales[n * p.groups + gi];
              zw = p.w_zeros != nullptr ? p.w_zeros[n * p.groups + gi] : 0;
            }
            facc[c][e] = tile::fold_group(facc[c][e], dacc[c][e], sx_acc, sw, zx, zw, p.group_len, scale);
            dacc[c][e] = 0;
          }
        }
#pragma unroll
        for (int c = 0; c < kTiles; ++c) sw_acc[c] = 0;
        sx_acc = 0;
      }
    }
  }

  if (row >= p.m) return;
  const float sx = p.x_scales[row];
#pragma unroll
  for (int c = 0; c < kTiles; ++c)
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      const int64_t n = n0 + 8 * c + 2 * t + e;
      if (n < p.n)
        tile::store_output(p.y, row * p.n + n, __fmaf_rn(facc[c][e], sx, p.bias != nullptr ? p.bias[n] : 0.0f),
                           p.out_dtype);
    }
}

}  // namespace abq::kernels::gemm

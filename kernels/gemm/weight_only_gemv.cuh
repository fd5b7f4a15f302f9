// Weight-only (WpA16) GEMV for decode: fp16/bf16 activations, weights unpacked from the sliced
// layout, fp32 accumulation on CUDA cores.
//
// Computes y[m,n] = Σ_g sw[n,g]·Σ_{k∈g} x[m,k]·(wq[n,k] − zw[n,g]) + bias[n]
// (reference/gemm_reference.h, bits = 16 branch; the device sums in a different order, so the test
// tolerance is relative, not bitwise).
//
// One warp per output channel, 8 channels per CTA, up to 8 tokens per CTA (grid.y tiles M). Lane l
// walks 32-k chunks l, l+32, …: it unpacks 32 codes (chunks never straddle a group, since
// G ∈ {64, 128, K}), reads the 32 activations of each token with four 16-byte loads (L1/L2
// resident: M·K·2 bytes; the base must be 16-byte aligned), and
// adds scale·dot to its per-token fp32 accumulator; a warp shuffle reduction finishes each token.
#pragma once

#include "kernels/gemm/gemm_params.h"
#include "kernels/tile/epilogue.cuh"
#include "kernels/tile/sliced_unpack.cuh"

namespace abq::kernels::gemm {

constexpr int kGemvWarps = 8;
constexpr int kGemvTileM = 8;

// ---- kernels

__global__ void __launch_bounds__(kGemvWarps * 32) weight_only_gemv_kernel(GemmParams p, tile::SlicedView wv) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t n = static_cast<int64_t>(blockIdx.x) * kGemvWarps + warp;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kGemvTileM;
  if (n >= p.n) return;  // whole warp leaves together
  const int w_offset_zero = p.w_signed ? (1 << (p.w_bits - 1)) : 0;

  float acc[kGemvTileM] = {};
  for (int64_t c = lane; c < p.k / 32; c += 32) {
    const int64_t k0 = c * 32;
    const int64_t gi = k0 / p.group_len;
    const float scale = p.w_scales[n * p.groups + gi];
    const float zw = static_cast<float>(p.w_zeros != nullptr ? p.w_zeros[n * p.groups + gi] : w_offset_zero);
    float w[32];
#pragma unroll
    for (int q = 0; q < 8; ++q) {
      const uint32_t bytes = tile::unpack_u8x4(wv, n, k0 + 4 * q);
#pragma unroll
      for (int e = 0; e < 4; ++e) w[4 * q + e] = static_cast<float>((bytes >> (8 * e)) & 0xffu) - zw;
    }
#pragma unroll
    for (int mm = 0; mm < kGemvTileM; ++mm) {
      const int64_t m = m0 + mm;
      if (m < p.m) {
        float dot = 0.0f;
#pragma unroll
        for (int v = 0; v < 4; ++v) {
          float xv[8];
          tile::load_input8(p.x, m * p.k + k0 + 8 * v, p.out_dtype, xv);
#pragma unroll
          for (int e = 0; e < 8; ++e) dot = __fmaf_rn(xv[e], w[8 * v + e], dot);
        }
        acc[mm] = __fmaf_rn(scale, dot, acc[mm]);
      }
    }
  }
#pragma unroll
  for (int mm = 0; mm < kGemvTileM; ++mm) {
    float v = acc[mm];
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    const int64_t m = m0 + mm;
    if (lane == 0 && m < p.m) tile::store_output(p.y, m * p.n + n, v + (p.bias != nullptr ? p.bias[n] : 0.0f), p.out_dtype);
  }
}

}  // namespace abq::kernels::gemm

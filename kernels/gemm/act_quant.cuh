// Fused dynamic per-token activation quantization: fp16/bf16 x[M][K] → per-token scale, zero-point
// and codes, written either as int8 containers (ABQ_PATH_INT8_UNPACK) or as bit-planes
// (ABQ_PATH_BITPLANE, one __ballot_sync per plane per 32 k, spec kernels-hopper.md §8.5).
// Matches reference/act_quant_reference.h bit for bit: fp32 min/max, IEEE division, rintf.
//
// One CTA of 256 threads per token: a block min/max reduction, thread 0 derives Δ and z, then each
// warp quantizes 32-k chunks (lane = element) and emits the codes.
#pragma once

#include <cstdint>

#include "kernels/gemm/gemm_params.h"
#include "kernels/tile/epilogue.cuh"

namespace abq::kernels::gemm {

constexpr int kActQuantThreads = 256;

// ---- kernels

__global__ void __launch_bounds__(kActQuantThreads) act_quant_kernel(ActQuantParams p) {
  __shared__ float s_lo[kActQuantThreads / 32], s_hi[kActQuantThreads / 32];
  __shared__ float s_delta, s_zero;
  const int64_t m = blockIdx.x;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

  float lo = tile::load_input(p.x, m * p.k, p.x_dtype), hi = lo;
  for (int64_t k = threadIdx.x; k < p.k; k += blockDim.x) {
    const float v = tile::load_input(p.x, m * p.k + k, p.x_dtype);
    lo = fminf(lo, v);
    hi = fmaxf(hi, v);
  }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    lo = fminf(lo, __shfl_xor_sync(0xffffffffu, lo, off));
    hi = fmaxf(hi, __shfl_xor_sync(0xffffffffu, hi, off));
  }
  if (lane == 0) {
    s_lo[warp] = lo;
    s_hi[warp] = hi;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < kActQuantThreads / 32; ++w) {
      lo = fminf(lo, s_lo[w]);
      hi = fmaxf(hi, s_hi[w]);
    }
    float delta, zero = 0.0f;
    if (p.is_signed) {
      const float qmax = static_cast<float>((1 << (p.bits - 1)) - 1);
      delta = fminf(fmaxf(__fdiv_rn(fmaxf(fabsf(hi), fabsf(lo)), qmax), 1e-5f), 1e4f);
    } else {
      delta = fminf(fmaxf(__fdiv_rn(hi - lo, static_cast<float>(p.levels - 1)), 1e-5f), 1e4f);
      zero = rintf(fminf(fmaxf(__fdiv_rn(-lo, delta), -1e4f), 1e4f));
      p.zeros[m] = static_cast<int32_t>(zero);
    }
    p.scales[m] = delta;
    s_delta = delta;
    s_zero = zero;
  }
  __syncthreads();
  const float delta = s_delta, zero = s_zero;
  const float qmin = p.is_signed ? -static_cast<float>(1 << (p.bits - 1)) : 0.0f;
  const float qmax = p.is_signed ? static_cast<float>((1 << (p.bits - 1)) - 1) : static_cast<float>(p.levels - 1);

  const int64_t chunks = p.k / 32;
  for (int64_t c = warp; c < chunks; c += kActQuantThreads / 32) {
    const int64_t k = c * 32 + lane;
    const float v = tile::load_input(p.x, m * p.k + k, p.x_dtype);
    const int code = static_cast<int>(fminf(fmaxf(rintf(__fdiv_rn(v, delta)) + zero, qmin), qmax));
    if (!p.bitplanes) {
      static_cast<uint8_t*>(p.codes)[m * p.k + k] = static_cast<uint8_t>(code & 0xff);
    } else {
      auto* planes = static_cast<uint32_t*>(p.codes);
      for (int b = 0; b < p.bits; ++b) {
        const uint32_t word = __ballot_sync(0xffffffffu, (code >> b) & 1);  // lane j → bit j (LSB-first)
        if (lane == 0) planes[(static_cast<int64_t>(b) * p.m + m) * chunks + c] = word;
      }
    }
  }
}

}  // namespace abq::kernels::gemm

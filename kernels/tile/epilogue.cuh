// Device epilogue shared by the integer paths: the zero-point fold of one group and the output
// store, in exactly the order of reference/gemm_reference.h (fp32 fma per group, then
// fma(acc, sx, bias), round-to-nearest to fp16/bf16), so device and reference agree bit for bit.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace abq::kernels::tile {

/// acc + scale · float(D − zw·Sx − zx·Sw + L·zx·zw), the fold evaluated in int64.
__device__ __forceinline__ float fold_group(float acc, int d, int sx, int sw, int zx, int zw, int len, float scale) {
  const long long sum = static_cast<long long>(d) - static_cast<long long>(zw) * sx - static_cast<long long>(zx) * sw +
                        static_cast<long long>(len) * zx * zw;
  return __fmaf_rn(scale, __ll2float_rn(sum), acc);
}

/// Stores one output element as fp16 or bf16 (round to nearest even).
__device__ __forceinline__ void store_output(void* y, int64_t index, float v, abq_dtype dtype) {
  if (dtype == ABQ_DTYPE_BF16)
    static_cast<__nv_bfloat16*>(y)[index] = __float2bfloat16_rn(v);
  else
    static_cast<__half*>(y)[index] = __float2half_rn(v);
}

/// Loads one fp16 / bf16 activation as float.
__device__ __forceinline__ float load_input(const void* x, int64_t index, abq_dtype dtype) {
  return dtype == ABQ_DTYPE_BF16 ? __bfloat162float(static_cast<const __nv_bfloat16*>(x)[index])
                                 : __half2float(static_cast<const __half*>(x)[index]);
}

/// Loads 8 consecutive fp16 / bf16 activations (index % 8 == 0, 16-byte aligned base) with one
/// 16-byte load.
__device__ __forceinline__ void load_input8(const void* x, int64_t index, abq_dtype dtype, float (&out)[8]) {
  const uint4 raw = __ldg(reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(x) + index));
  const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const unsigned short bits = static_cast<unsigned short>(words[i / 2] >> (16 * (i % 2)));
    out[i] = dtype == ABQ_DTYPE_BF16 ? __bfloat162float(__ushort_as_bfloat16(bits)) : __half2float(__ushort_as_half(bits));
  }
}

/// Sum over the 4 lanes of a quad (lanes 4g..4g+3), the lanes that share a fragment row.
__device__ __forceinline__ int quad_sum(int v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  v += __shfl_xor_sync(0xffffffffu, v, 2);
  return v;
}

}  // namespace abq::kernels::tile

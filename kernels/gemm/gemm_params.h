// Kernel parameter blocks of the gemm/ kernels: plain structs (no CUDA types) so the C API and the
// launchers can fill them without seeing device code. Pointers are device pointers.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace abq::kernels::gemm {

/// Shared by the three GEMM kernels: formats, shapes, scales, zero-points, bias, output.
struct GemmParams {
  const void* x = nullptr;            // bit-planes, int8 containers or fp16/bf16 values
  const uint32_t* w = nullptr;        // bit-planes or sliced words
  const float* x_scales = nullptr;    // [M] (integer paths)
  const int32_t* x_zeros = nullptr;   // [M] or null
  const float* w_scales = nullptr;    // [N][G]
  const int32_t* w_zeros = nullptr;   // [N][G] or null (signed)
  const float* bias = nullptr;        // [N] or null
  void* y = nullptr;                  // [M][N]
  abq_dtype out_dtype = ABQ_DTYPE_F16;
  int m = 0, n = 0, k = 0;
  int x_bits = 8, w_bits = 4;
  bool x_signed = false, w_signed = false;
  int group_len = 0;                  // G in k (64, 128 or K)
  int groups = 1;                     // K / G
};

/// Fused per-token activation quantization.
struct ActQuantParams {
  const void* x = nullptr;  // fp16/bf16 [M][K]
  abq_dtype x_dtype = ABQ_DTYPE_F16;
  int m = 0, k = 0;
  int bits = 8, levels = 256;
  bool is_signed = false;
  bool bitplanes = false;   // true: bit-planes [bits][M][K/32]; false: int8 containers [M][K]
  void* codes = nullptr;
  float* scales = nullptr;
  int32_t* zeros = nullptr;
};

}  // namespace abq::kernels::gemm

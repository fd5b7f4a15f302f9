// Internal interface between the CPU driver (cpu_gemm.cpp) and the per-ISA kernels (isa_*.cpp):
// plain structs of host pointers and one table of function pointers per ISA. Nothing here is part
// of the C API.
#pragma once

#include <cstddef>
#include <cstdint>

namespace abq::kernels::cpu {

// One GEMM, its activations already in the form the path's kernel reads (prepared by the driver).
struct GemmJob {
  // Weights: packed words (bit-planes or sliced layout), [N][G] scales and zero-points.
  const uint32_t* w = nullptr;
  int w_bits = 4;
  bool w_signed = false;
  int64_t n = 0, k = 0;
  int64_t groups = 1, group_len = 0;
  const float* w_scales = nullptr;
  const int32_t* w_zeros = nullptr;  // null when signed

  // Activations.
  int64_t m = 0;
  int x_bits = 8;
  bool x_signed = false;
  // int8 path: s8 bytes [M][K] holding x − x_offset (x_offset = 128 for unsigned 8-bit, else 0).
  // bitplane path: planes uint32 [x_bits][M][K/32] as given.
  const void* x = nullptr;
  const int32_t* x_sums = nullptr;   // integer paths: [M][G] Σ over the group of the values above
  const int32_t* x_zeros = nullptr;  // integer paths: [M] zero-point minus x_offset (0 when signed)
  const float* x_scales = nullptr;   // integer paths: [M]
  const int32_t* x_adjusted = nullptr;  // integer paths: [M][G] x_sums − L·x_zeros, or null if it overflows
  const float* x_adjusted_f = nullptr;  // the same and x_zeros as floats (read only where exact)
  const float* x_zeros_f = nullptr;
  int64_t x_zero_max = 0;               // integer paths: max |x_zeros| (+ the offset)
  // weight-only path: per slice s, x in the lane order of that slice ([M][x_perm_stride[s]]
  // floats, see weight_only_x_index) and [M][G] fp32 sums of x per group.
  const float* x_perm[3] = {nullptr, nullptr, nullptr};
  int64_t x_perm_stride[3] = {0, 0, 0};
  const float* x_fsums = nullptr;
  // weight-only path with many tokens (weight_only_block): x as fp32 [M][K] in natural order.
  const float* x_f32 = nullptr;

  const float* bias = nullptr;  // [N] or null
};

// Kernel entry points of one ISA. Integer kernels compute output channels n0 .. n0+lanes−1
// (clamped to N) for every token; the weight-only kernel computes channels [n0, n1). Each writes
// fp32 results to out[m * ldo + (n − n0)]; scratch holds scratch_bytes(job) bytes.
struct IsaKernels {
  int lanes = 1;  // vector width in 32-bit lanes
  size_t (*int8_scratch_bytes)(const GemmJob&) = nullptr;
  void (*int8_block)(const GemmJob&, int64_t n0, void* scratch, float* out, int64_t ldo) = nullptr;
  size_t (*bitplane_scratch_bytes)(const GemmJob&) = nullptr;
  void (*bitplane_block)(const GemmJob&, int64_t n0, void* scratch, float* out, int64_t ldo) = nullptr;
  void (*weight_only_rows)(const GemmJob&, int64_t n0, int64_t n1, float* out, int64_t ldo) = nullptr;
  // Weight-only for M ≥ kWeightOnlyBlockTokens: channels n0 .. n0+lanes−1 like the integer kernels.
  size_t (*weight_only_scratch_bytes)(const GemmJob&) = nullptr;
  void (*weight_only_block)(const GemmJob&, int64_t n0, void* scratch, float* out, int64_t ldo) = nullptr;
  // Per-token activation quantizer over rows [r0, r1) of fp32 x [M][K]: writes codes as int8
  // containers (planes == false) or bit-planes [bits][M][K/32], scales and zeros (null if signed).
  void (*quantize_rows)(const float* x, int64_t m, int64_t k, int bits, int levels, bool is_signed, bool planes,
                        int64_t r0, int64_t r1, void* codes, float* scales, int32_t* zeros) = nullptr;
};

// From this many tokens on, the weight-only path dequantizes blocks of channels once and sweeps
// all tokens over them (weight_only_block) instead of re-reading each row per token group.
constexpr int64_t kWeightOnlyBlockTokens = 8;

const IsaKernels& scalar_kernels();
const IsaKernels& avx2_kernels();
const IsaKernels& avxvnni_kernels();
const IsaKernels& avx512_kernels();

// Weight-only lane order of slice width w for vectors of `lanes` words: x element of word
// (v·lanes + i), position e (0 ≤ e < 32/w) is stored at index (v·(32/w) + e)·lanes + i; words past
// the row end are zero. Row length in floats:
inline int64_t weight_only_x_stride(int64_t k, int width, int lanes) {
  const int64_t words = k * width / 32, vectors = (words + lanes - 1) / lanes;
  return vectors * (32 / width) * lanes;
}

}  // namespace abq::kernels::cpu

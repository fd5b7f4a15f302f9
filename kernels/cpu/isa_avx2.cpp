// Instantiation of the CPU kernels (simd_kernels.h) for AVX2 + FMA (VPMADDUBSW dot products, nibble-table popcount).
// Compiled for that target by the pragma below (not by file flags), after every standard header,
// so only these functions use the extension; the driver calls them only when CPUID reports it.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_job.h"
#include "kernels/tile/sliced_layout.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,popcnt"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,popcnt")
#endif


namespace {
#include "kernels/cpu/avx2_ops.h"
#include "kernels/cpu/simd_kernels.h"
}  // namespace

namespace abq::kernels::cpu {

const IsaKernels& avx2_kernels() {
  static const IsaKernels table = kern::Kernels<Avx2Ops>::table();
  return table;
}

}  // namespace abq::kernels::cpu

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

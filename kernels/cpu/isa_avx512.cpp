// Instantiation of the CPU kernels (simd_kernels.h) for AVX-512 F+BW+VL+DQ with VNNI (512-bit
// VPDPBUSD) and VPOPCNTDQ (VPOPCNTD). Compiled for that target by the pragma below (not by file
// flags), after every standard header, so only these functions use AVX-512; the driver calls them
// only when CPUID and the OS report all six features.
// GCC 12's AVX-512 headers build masked intrinsics on _mm512_undefined_*(), which it then reports
// as maybe-uninitialized (a known false positive of the headers, not of this file).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_job.h"
#include "kernels/tile/sliced_layout.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vpopcntdq,avx2,fma,popcnt"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512vpopcntdq,avx2,fma,popcnt")
#endif

namespace {

struct Avx512Ops {
  static constexpr int V = 16;
  using vi = __m512i;
  using vf = __m512;

  static __mmask16 first_n(int n) { return n >= V ? __mmask16(0xffff) : __mmask16((1u << (n < 0 ? 0 : n)) - 1u); }
  static vi iota() { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }

  static vi zero_i() { return _mm512_setzero_si512(); }
  static vi set1_i(int32_t v) { return _mm512_set1_epi32(v); }
  static vi load_i(const int32_t* p) { return _mm512_loadu_si512(p); }
  static vi load_i_n(const uint32_t* p, int n) {
    if (n >= V) return _mm512_loadu_si512(p);
    return _mm512_maskz_loadu_epi32(first_n(n), p);
  }
  static void store_i(int32_t* p, vi v) { _mm512_storeu_si512(p, v); }
  static vi gather_rows(const uint32_t* p, int64_t stride, int rows) {
    const vi idx = _mm512_mullo_epi32(_mm512_min_epi32(iota(), _mm512_set1_epi32(rows - 1)),
                                      _mm512_set1_epi32(static_cast<int32_t>(stride)));
    return _mm512_i32gather_epi32(idx, p, 4);
  }
  static vi and_(vi a, vi b) { return _mm512_and_si512(a, b); }
  static vi or_(vi a, vi b) { return _mm512_or_si512(a, b); }
  static vi xor_(vi a, vi b) { return _mm512_xor_si512(a, b); }
  static vi add_i(vi a, vi b) { return _mm512_add_epi32(a, b); }
  static vi sub_i(vi a, vi b) { return _mm512_sub_epi32(a, b); }
  static vi srl(vi v, int n) { return _mm512_srl_epi32(v, _mm_cvtsi32_si128(n)); }
  static vi sll(vi v, int n) { return _mm512_sll_epi32(v, _mm_cvtsi32_si128(n)); }
  static vi dpbusd(vi acc, vi u, int32_t x4) { return _mm512_dpbusd_epi32(acc, u, _mm512_set1_epi32(x4)); }
  static vi dpbusd_wide(vi acc, vi u, int32_t x4) { return dpbusd(acc, u, x4); }
  static vi mullo(vi a, vi b) { return _mm512_mullo_epi32(a, b); }
  static vi popcnt(vi v) { return _mm512_popcnt_epi32(v); }

  static vf zero_f() { return _mm512_setzero_ps(); }
  static vf set1_f(float v) { return _mm512_set1_ps(v); }
  static vf load_f(const float* p) { return _mm512_loadu_ps(p); }
  static vf load_f_n(const float* p, int n) {
    if (n >= V) return _mm512_loadu_ps(p);
    return _mm512_maskz_loadu_ps(first_n(n), p);
  }
  static void store_f_n(float* p, vf v, int n) { _mm512_mask_storeu_ps(p, first_n(n), v); }
  static void store_f(float* p, vf v) { _mm512_storeu_ps(p, v); }
  static vf sub_f(vf a, vf b) { return _mm512_sub_ps(a, b); }
  static vf fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
  static vf mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
  static vf add_f(vf a, vf b) { return _mm512_add_ps(a, b); }
  static vf div(vf a, vf b) { return _mm512_div_ps(a, b); }
  static vf cvt(vi v) { return _mm512_cvtepi32_ps(v); }
  static float hsum(vf v) { return _mm512_reduce_add_ps(v); }
  static float hmin(vf v) { return _mm512_reduce_min_ps(v); }
  static float hmax(vf v) { return _mm512_reduce_max_ps(v); }
  static vf min_f(vf a, vf b) { return _mm512_min_ps(a, b); }
  static vf max_f(vf a, vf b) { return _mm512_max_ps(a, b); }
  static vf round_even(vf v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static float round_even_scalar(float v) { return std::nearbyint(v); }
  static vi cvtt(vf v) { return _mm512_cvttps_epi32(v); }
  static uint32_t bitmask(vi v, int b) {
    return static_cast<uint32_t>(_mm512_test_epi32_mask(v, _mm512_set1_epi32(1 << b)));
  }
  static void store_bytes(uint8_t* p, vi v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v)); }
  static vi group_index(int lanes_per_group) {
    alignas(64) int32_t t[V];
    for (int i = 0; i < V; ++i) t[i] = i / lanes_per_group;
    return _mm512_load_si512(t);
  }
  // Lookup of float(field) by the low 4 bits of each lane (VPERMPS).
  static constexpr int kLutBits = 4;
  static vf field_table(int width) {
    const float m = static_cast<float>((1 << width) - 1);
    alignas(64) float t[16];
    for (int i = 0; i < 16; ++i) t[i] = static_cast<float>(i & static_cast<int>(m));
    return _mm512_load_ps(t);
  }
  static vf lut(vi idx, vf table) { return _mm512_permutexvar_ps(idx, table); }
  // Lane i = w[i/2] >> 4·(i%2), from lanes w[0..7] (vector index v is even for V = 16).
  static vi spread_pairs(vi w, int64_t) {
    const vi idx = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const vi shift = _mm512_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4);
    return _mm512_srlv_epi32(_mm512_permutexvar_epi32(idx, w), shift);
  }
  // Bits of `mask` from a, the others from b.
  static vi select(vi mask, vi a, vi b) { return _mm512_ternarylogic_epi32(mask, a, b, 0xCA); }
  static vf gather_groups(const float* s, int count, vi idx) { return _mm512_permutexvar_ps(idx, load_f_n(s, count)); }

  // I = D − zw·Sx − zx·Sw + L·zx·zw, exact in double, rounded once to float.
  static __m256 fold_half(__m256i d, __m256i sw, __m256i zw, double sx, double zx, double len) {
    const __m512d zwd = _mm512_cvtepi32_pd(zw);
    __m512d i = _mm512_cvtepi32_pd(d);
    i = _mm512_sub_pd(i, _mm512_mul_pd(zwd, _mm512_set1_pd(sx)));
    i = _mm512_sub_pd(i, _mm512_mul_pd(_mm512_cvtepi32_pd(sw), _mm512_set1_pd(zx)));
    i = _mm512_add_pd(i, _mm512_mul_pd(zwd, _mm512_set1_pd(len * zx)));
    return _mm512_cvtpd_ps(i);
  }
  static vf fold(vi d, vi sw, int32_t sx, int32_t zx, vi zw, int64_t len) {
    const __m256 lo = fold_half(_mm512_castsi512_si256(d), _mm512_castsi512_si256(sw), _mm512_castsi512_si256(zw), sx,
                                zx, static_cast<double>(len));
    const __m256 hi = fold_half(_mm512_extracti64x4_epi64(d, 1), _mm512_extracti64x4_epi64(sw, 1),
                                _mm512_extracti64x4_epi64(zw, 1), sx, zx, static_cast<double>(len));
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
  }
};

#include "kernels/cpu/simd_kernels.h"

}  // namespace

namespace abq::kernels::cpu {

const IsaKernels& avx512_kernels() {
  static const IsaKernels table = kern::Kernels<Avx512Ops>::table();
  return table;
}

}  // namespace abq::kernels::cpu

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

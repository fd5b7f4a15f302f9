// 8-lane vector ops for simd_kernels.h on AVX2 + FMA, with VPDPBUSD from AVX-VNNI when
// ABQ_CPU_AVXVNNI is defined. Included by isa_avx2.cpp / isa_avxvnni.cpp after their target pragma.
#pragma once

struct Avx2Ops {
  static constexpr int V = 8;
  using vi = __m256i;
  using vf = __m256;

  static vi iota() { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
  static vi first_n(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), iota()); }

  static vi zero_i() { return _mm256_setzero_si256(); }
  static vi set1_i(int32_t v) { return _mm256_set1_epi32(v); }
  static vi load_i(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static vi load_i_n(const uint32_t* p, int n) {
    if (n >= V) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm256_maskload_epi32(reinterpret_cast<const int*>(p), first_n(n));
  }
  static void store_i(int32_t* p, vi v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static vi gather_rows(const uint32_t* p, int64_t stride, int rows) {
    const vi idx = _mm256_mullo_epi32(_mm256_min_epi32(iota(), _mm256_set1_epi32(rows - 1)),
                                      _mm256_set1_epi32(static_cast<int32_t>(stride)));
    return _mm256_i32gather_epi32(reinterpret_cast<const int*>(p), idx, 4);
  }
  static vi and_(vi a, vi b) { return _mm256_and_si256(a, b); }
  static vi or_(vi a, vi b) { return _mm256_or_si256(a, b); }
  static vi xor_(vi a, vi b) { return _mm256_xor_si256(a, b); }
  static vi add_i(vi a, vi b) { return _mm256_add_epi32(a, b); }
  static vi sub_i(vi a, vi b) { return _mm256_sub_epi32(a, b); }
  static vi srl(vi v, int n) { return _mm256_srl_epi32(v, _mm_cvtsi32_si128(n)); }
  static vi sll(vi v, int n) { return _mm256_sll_epi32(v, _mm_cvtsi32_si128(n)); }
#if defined(ABQ_CPU_AVXVNNI)
  static vi dpbusd(vi acc, vi u, int32_t x4) { return _mm256_dpbusd_avx_epi32(acc, u, _mm256_set1_epi32(x4)); }
  static vi dpbusd_wide(vi acc, vi u, int32_t x4) { return dpbusd(acc, u, x4); }
#else
  // VPMADDUBSW saturates at ±32767: exact while the unsigned bytes stay ≤ 127 (slices of ≤ 7 bits).
  static vi dpbusd(vi acc, vi u, int32_t x4) {
    const vi pairs = _mm256_maddubs_epi16(u, _mm256_set1_epi32(x4));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }
  // Any unsigned byte: split into nibbles (15·128·2 fits int16), recombine ×16.
  static vi dpbusd_wide(vi acc, vi u, int32_t x4) {
    const vi nib = _mm256_set1_epi8(0x0f), x = _mm256_set1_epi32(x4), one = _mm256_set1_epi16(1);
    const vi lo = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_and_si256(u, nib), x), one);
    const vi hi = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(u, 4), nib), x), one);
    return _mm256_add_epi32(acc, _mm256_add_epi32(lo, _mm256_slli_epi32(hi, 4)));
  }
#endif
  // Nibble-table popcount per byte, then bytes summed per 32-bit lane.
  static vi mullo(vi a, vi b) { return _mm256_mullo_epi32(a, b); }
  static vi popcnt(vi v) {
    const vi table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2,
                                      3, 3, 4);
    const vi nib = _mm256_set1_epi8(0x0f);
    const vi bytes = _mm256_add_epi8(_mm256_shuffle_epi8(table, _mm256_and_si256(v, nib)),
                                     _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib)));
    return _mm256_madd_epi16(_mm256_maddubs_epi16(bytes, _mm256_set1_epi8(1)), _mm256_set1_epi16(1));
  }

  static vf zero_f() { return _mm256_setzero_ps(); }
  static vf set1_f(float v) { return _mm256_set1_ps(v); }
  static vf load_f(const float* p) { return _mm256_loadu_ps(p); }
  static vf load_f_n(const float* p, int n) {
    if (n >= V) return _mm256_loadu_ps(p);
    return _mm256_maskload_ps(p, first_n(n));
  }
  static void store_f_n(float* p, vf v, int n) {
    if (n >= V)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, first_n(n), v);
  }
  static void store_f(float* p, vf v) { _mm256_storeu_ps(p, v); }
  static vf sub_f(vf a, vf b) { return _mm256_sub_ps(a, b); }
  static vf fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
  static vf mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
  static vf add_f(vf a, vf b) { return _mm256_add_ps(a, b); }
  static vf div(vf a, vf b) { return _mm256_div_ps(a, b); }
  static vf cvt(vi v) { return _mm256_cvtepi32_ps(v); }
  static float hsum(vf v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmin(vf v) {
    alignas(32) float t[V];
    _mm256_store_ps(t, v);
    float r = t[0];
    for (int i = 1; i < V; ++i) r = t[i] < r ? t[i] : r;
    return r;
  }
  static float hmax(vf v) {
    alignas(32) float t[V];
    _mm256_store_ps(t, v);
    float r = t[0];
    for (int i = 1; i < V; ++i) r = r < t[i] ? t[i] : r;
    return r;
  }
  static vf min_f(vf a, vf b) { return _mm256_min_ps(a, b); }
  static vf max_f(vf a, vf b) { return _mm256_max_ps(a, b); }
  static vf round_even(vf v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static float round_even_scalar(float v) { return std::nearbyint(v); }
  static vi cvtt(vf v) { return _mm256_cvttps_epi32(v); }
  static uint32_t bitmask(vi v, int b) {
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_sll_epi32(v, _mm_cvtsi32_si128(31 - b)))));
  }
  static void store_bytes(uint8_t* p, vi v) {
    alignas(32) int32_t t[V];
    _mm256_store_si256(reinterpret_cast<__m256i*>(t), v);
    for (int i = 0; i < V; ++i) p[i] = static_cast<uint8_t>(t[i] & 0xff);
  }
  static vi group_index(int lanes_per_group) {
    alignas(32) int32_t t[V];
    for (int i = 0; i < V; ++i) t[i] = i / lanes_per_group;
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(t));
  }
  // Lookup of float(field) by the low 3 bits of each lane (VPERMPS ymm): fields of ≤ 3 bits.
  static constexpr int kLutBits = 3;
  static vf field_table(int width) {
    alignas(32) float t[8];
    for (int i = 0; i < 8; ++i) t[i] = static_cast<float>(i & ((1 << width) - 1));
    return _mm256_load_ps(t);
  }
  static vf lut(vi idx, vf table) { return _mm256_permutevar8x32_ps(table, idx); }
  // Lane i = w[i/2] >> 4·(i%2), from lanes w[0..3] (vector index v is even for V = 8).
  static vi spread_pairs(vi w, int64_t) {
    const vi idx = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3), shift = _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4);
    return _mm256_srlv_epi32(_mm256_permutevar8x32_epi32(w, idx), shift);
  }
  // Bits of `mask` from a, the others from b.
  static vi select(vi mask, vi a, vi b) { return _mm256_or_si256(_mm256_and_si256(mask, a), _mm256_andnot_si256(mask, b)); }
  static vf gather_groups(const float* s, int count, vi idx) {
    return _mm256_permutevar8x32_ps(load_f_n(s, count), idx);
  }

  // I = D − zw·Sx − zx·Sw + L·zx·zw, exact in double, rounded once to float.
  static __m128 fold_half(__m128i d, __m128i sw, __m128i zw, double sx, double zx, double len) {
    const __m256d zwd = _mm256_cvtepi32_pd(zw);
    __m256d i = _mm256_cvtepi32_pd(d);
    i = _mm256_sub_pd(i, _mm256_mul_pd(zwd, _mm256_set1_pd(sx)));
    i = _mm256_sub_pd(i, _mm256_mul_pd(_mm256_cvtepi32_pd(sw), _mm256_set1_pd(zx)));
    i = _mm256_add_pd(i, _mm256_mul_pd(zwd, _mm256_set1_pd(len * zx)));
    return _mm256_cvtpd_ps(i);
  }
  static vf fold(vi d, vi sw, int32_t sx, int32_t zx, vi zw, int64_t len) {
    const __m128 lo = fold_half(_mm256_castsi256_si128(d), _mm256_castsi256_si128(sw), _mm256_castsi256_si128(zw), sx,
                                zx, static_cast<double>(len));
    const __m128 hi = fold_half(_mm256_extracti128_si256(d, 1), _mm256_extracti128_si256(sw, 1),
                                _mm256_extracti128_si256(zw, 1), sx, zx, static_cast<double>(len));
    return _mm256_set_m128(hi, lo);
  }
};

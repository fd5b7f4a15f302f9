// The CPU kernels, written once over a vector-ops class `O` and instantiated by each isa_*.cpp
// (O = scalar, AVX2, AVX-VNNI or AVX-512 ops; O::V 32-bit lanes). Included only by those files,
// after their target pragma, inside their own anonymous namespace: nothing here has external
// linkage, so no function compiled for one ISA can be picked by the linker for another.
//
// Integer paths (lanes = output channels): a block of V channels is first rearranged so that lane
// i holds channel n0 + i, then every token runs over it.
//   int8_unpack: the sliced codes of the V rows become one u8x4 word per (4 k, lane), all slices
//     OR-ed together (signed codes get their top bit flipped: u = w + 2^(p−1), zero-point 2^(p−1));
//     tokens are s8 bytes x − off. D = Σ u·x' by dot products of 4 bytes (VPDPBUSD or its AVX2 /
//     scalar equivalent), per group exact in int32; Σu per group comes from the same dot product
//     with ones. I = D − zw·Sx − zx·Sw + L·zx·zw is evaluated in double (exact), rounded to float.
//   bitplane: the planes of the V rows are transposed to lanes; per 32-k word
//     D = Σ_i s_i 2^i Σ_j s_j 2^j popc(X_i AND W_j) by Horner steps (×2 + popc), same fold.
//   Both then follow the reference epilogue exactly: acc = fma(sw, float(I), acc) over the groups
//   in order, y = fma(acc, sx, bias).
// weight_only (lanes = 32-bit words of one row): per slice, each word's fields are extracted with
//   a shift and a mask, converted to float and multiplied with x in the matching lane order
//   (cpu_job.h weight_only_x_index); lanes are scaled by their group's sw·2^shift and summed in
//   fp32; the zero-point term Σ_g sw·zw·Σx is subtracted at the end.
#pragma once

namespace kern {

using abq::kernels::cpu::GemmJob;
using abq::kernels::tile::SliceSet;

// Software prefetch distance of the weight-only row stream, in 32-bit words (2 KiB): far enough
// ahead to cross 4 KiB pages, where the hardware streamer stops.
#ifndef ABQ_CPU_PREFETCH_WORDS
#define ABQ_CPU_PREFETCH_WORDS 1024
#endif
constexpr int64_t kPrefetchWords = ABQ_CPU_PREFETCH_WORDS;
#ifndef ABQ_CPU_PREFETCH_HINT
#define ABQ_CPU_PREFETCH_HINT 2
#endif

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline float clampf(float v, float lo, float hi) { return v < lo ? lo : (hi < v ? hi : v); }
inline float maxf(float a, float b) { return a < b ? b : a; }
inline float minf(float a, float b) { return b < a ? b : a; }

template <class O>
struct Kernels {
  static constexpr int V = O::V;
  using vi = typename O::vi;
  using vf = typename O::vf;

  // ---- shared by the integer paths --------------------------------------------------------------

  // How the zero-point fold of a block is evaluated, each exact under its bound (codes and
  // activation values are below 2^8 in magnitude, hence the 255 / + 256 margins):
  //   kFoldFloat: every term and partial sum of I below 2^24, so fp32 FMAs are exact;
  //   kFoldInt32: the true |I| ≤ L·max|x − zx|·max|w − zw| < 2^31, so wrapping int32 is exact;
  //   kFoldDouble: otherwise (exact while zero-points stay below 2^20).
  enum Fold { kFoldDouble = 0, kFoldInt32 = 1, kFoldFloat = 2 };

  // Scales and zero-points of the block's rows, group-major with one lane per row; returns the fold.
  static int transpose_groups(const GemmJob& j, int64_t n0, int rows, int32_t signed_zero, float* sw_t,
                              int32_t* zw_t) {
    int64_t zmax = 0;
    for (int64_t g = 0; g < j.groups; ++g)
      for (int i = 0; i < V; ++i) {
        const int64_t r = n0 + (i < rows ? i : rows - 1);
        sw_t[g * V + i] = j.w_scales[r * j.groups + g];
        const int32_t z = j.w_zeros != nullptr ? j.w_zeros[r * j.groups + g] : signed_zero;
        zw_t[g * V + i] = z;
        zmax = z < 0 ? (-int64_t(z) > zmax ? -int64_t(z) : zmax) : (z > zmax ? z : zmax);
      }
    if (j.x_adjusted == nullptr) return kFoldDouble;
    const double len = double(j.group_len), umax = double((1 << j.w_bits) - 1), zx = double(j.x_zero_max);
    if (len * (umax * 255 + double(zmax) * (255 + zx) + zx * umax) < 16777216.0) return kFoldFloat;
    if (len * (zx + 256) * (double(zmax) + 256) < 2147483648.0) return kFoldInt32;
    return kFoldDouble;
  }

  // I = D − zw·Sx − zx·Sw + L·zx·zw for token m, group g, as D − zx·Sw − zw·(Sx − L·zx).
  static vf group_sum(const GemmJob& j, int fold, vi d, vi sw, vi zw, vf swf, vf zwf, int64_t m, int64_t g) {
    if (fold == kFoldFloat) {
      const vf t = O::fma(O::set1_f(-j.x_zeros_f[m]), swf, O::cvt(d));
      return O::fma(O::set1_f(-j.x_adjusted_f[m * j.groups + g]), zwf, t);
    }
    if (fold == kFoldInt32)
      return O::cvt(O::sub_i(O::sub_i(d, O::mullo(zw, O::set1_i(j.x_adjusted[m * j.groups + g]))),
                             O::mullo(sw, O::set1_i(j.x_zeros[m]))));
    return O::fold(d, sw, j.x_sums[m * j.groups + g], j.x_zeros[m], zw, j.group_len);
  }

  static vf bias_lanes(const GemmJob& j, int64_t n0, int rows) {
    return j.bias != nullptr ? O::load_f_n(j.bias + n0, rows) : O::zero_f();
  }

  static int block_rows(const GemmJob& j, int64_t n0) { return static_cast<int>(min64(V, j.n - n0)); }

  // ---- int8_unpack ------------------------------------------------------------------------------

  static size_t int8_scratch_bytes(const GemmJob& j) {
    return static_cast<size_t>(j.k / 4 + 3 * j.groups) * V * 4;
  }

  template <int W>
  static void expand_slice(const uint32_t* rows_base, int64_t row_words, int rows, int shift, bool first,
                           int32_t* e) {
    constexpr int kSub = 8 / W;
    const vi mask = O::set1_i(static_cast<int32_t>(0x01010101u * ((1u << W) - 1u)));
    for (int64_t t = 0; t < row_words; ++t) {
      const vi word = O::gather_rows(rows_base + t, row_words, rows);
      for (int s = 0; s < kSub; ++s) {
        int32_t* dst = e + (t * kSub + s) * V;
        const vi field = O::sll(O::and_(O::srl(word, W * s), mask), shift);
        O::store_i(dst, first ? field : O::or_(O::load_i(dst), field));
      }
    }
  }

  // The sliced codes of channels n0.. as one u8x4 word per (4 k, lane), all slices OR-ed together.
  static void expand_codes(const GemmJob& j, int64_t n0, int rows, int32_t* e) {
    const SliceSet set = abq::kernels::tile::slices_for_bits(j.w_bits);
    for (int s = 0; s < set.count; ++s) {
      const int64_t row_words = j.k * set.width[s] / 32;
      const uint32_t* base = j.w + set.word_offset_per_nk32[s] * (j.n * j.k / 32) + n0 * row_words;
      switch (set.width[s]) {
        case 8: expand_slice<8>(base, row_words, rows, set.shift[s], s == 0, e); break;
        case 4: expand_slice<4>(base, row_words, rows, set.shift[s], s == 0, e); break;
        case 2: expand_slice<2>(base, row_words, rows, set.shift[s], s == 0, e); break;
        default: expand_slice<1>(base, row_words, rows, set.shift[s], s == 0, e); break;
      }
    }
  }

  template <int MB, bool kWide>
  static void int8_tokens(const GemmJob& j, int fold, int64_t m0, const int32_t* e, const int32_t* sw_sum, const float* sw_t,
                          const int32_t* zw_t, vf bias, float* out, int64_t ldo, int rows) {
    const auto* x = static_cast<const uint8_t*>(j.x);
    const int64_t quads = j.group_len / 4;
    vf acc[MB];
    for (int r = 0; r < MB; ++r) acc[r] = O::zero_f();
    for (int64_t g = 0; g < j.groups; ++g) {
      // NA independent sums per token (quads per group are a multiple of 16): hides the latency of
      // the dot-product chain when few tokens share each weight load.
      constexpr int NA = MB >= 4 ? 1 : (MB >= 2 ? 2 : 4);
      vi dd[MB][NA];
      for (int r = 0; r < MB; ++r)
        for (int c = 0; c < NA; ++c) dd[r][c] = O::zero_i();
      for (int64_t q = g * quads; q < (g + 1) * quads; q += NA)
        for (int c = 0; c < NA; ++c) {
          const vi wv = O::load_i(e + (q + c) * V);
          for (int r = 0; r < MB; ++r) {
            int32_t x4;
            std::memcpy(&x4, x + (m0 + r) * j.k + 4 * (q + c), 4);
            dd[r][c] = kWide ? O::dpbusd_wide(dd[r][c], wv, x4) : O::dpbusd(dd[r][c], wv, x4);
          }
        }
      vi d[MB];
      for (int r = 0; r < MB; ++r) {
        d[r] = dd[r][0];
        for (int c = 1; c < NA; ++c) d[r] = O::add_i(d[r], dd[r][c]);
      }
      const vi sw = O::load_i(sw_sum + g * V), zw = O::load_i(zw_t + g * V);
      const vf scale = O::load_f(sw_t + g * V), swf = O::cvt(sw), zwf = O::cvt(zw);
      for (int r = 0; r < MB; ++r) {
        const int64_t m = m0 + r;
        const vf sum = group_sum(j, fold, d[r], sw, zw, swf, zwf, m, g);
        acc[r] = O::fma(scale, sum, acc[r]);
      }
    }
    for (int r = 0; r < MB; ++r)
      O::store_f_n(out + (m0 + r) * ldo, O::fma(acc[r], O::set1_f(j.x_scales[m0 + r]), bias), rows);
  }

  template <bool kWide>
  static void int8_all_tokens(const GemmJob& j, int fold, const int32_t* e, const int32_t* sw_sum, const float* sw_t,
                              const int32_t* zw_t, vf bias, float* out, int64_t ldo, int rows) {
    int64_t m0 = 0;
    for (; m0 + 8 <= j.m; m0 += 8) int8_tokens<8, kWide>(j, fold, m0, e, sw_sum, sw_t, zw_t, bias, out, ldo, rows);
    switch (j.m - m0) {
      case 7: int8_tokens<7, kWide>(j, fold, m0, e, sw_sum, sw_t, zw_t, bias, out, ldo, rows); break;
      case 6: int8_tokens<6, kWide>(j, fold, m0, e, sw_sum, sw_t, zw_t, bias, out, ldo, rows); break;
      case 5: int8_tokens<5, kWide>(j, fold, m0, e, sw_sum, sw_t, zw_t, bias, out, ldo, rows); break;
      case 4: int8_tokens<4, kWide>(j, fold, m0, e, sw_sum, sw_t, zw_t, bias, out, ldo, rows); break;
      case 3: int8_tokens<3, kWide>(j, fold, m0, e, sw_sum, sw_t, zw_t, bias, out, ldo, rows); break;
      case 2: int8_tokens<2, kWide>(j, fold, m0, e, sw_sum, sw_t, zw_t, bias, out, ldo, rows); break;
      case 1: int8_tokens<1, kWide>(j, fold, m0, e, sw_sum, sw_t, zw_t, bias, out, ldo, rows); break;
      default: break;
    }
  }

  static void int8_block(const GemmJob& j, int64_t n0, void* scratch, float* out, int64_t ldo) {
    const int rows = block_rows(j, n0);
    auto* e = static_cast<int32_t*>(scratch);
    int32_t* sw_sum = e + (j.k / 4) * V;
    auto* sw_t = reinterpret_cast<float*>(sw_sum + j.groups * V);
    int32_t* zw_t = reinterpret_cast<int32_t*>(sw_t + j.groups * V);
    const int32_t sign_offset = j.w_signed ? (1 << (j.w_bits - 1)) : 0;
    const int fold = transpose_groups(j, n0, rows, sign_offset, sw_t, zw_t);

    expand_codes(j, n0, rows, e);
    const int64_t quads = j.group_len / 4;
    const vi flip = O::set1_i(static_cast<int32_t>(0x01010101u * static_cast<uint32_t>(sign_offset)));
    for (int64_t g = 0; g < j.groups; ++g) {
      vi sum = O::zero_i();
      for (int64_t q = g * quads; q < (g + 1) * quads; ++q) {
        vi u = O::load_i(e + q * V);
        if (j.w_signed) {
          u = O::xor_(u, flip);
          O::store_i(e + q * V, u);
        }
        sum = O::dpbusd_wide(sum, u, 0x01010101);
      }
      O::store_i(sw_sum + g * V, sum);
    }
    const vf bias = bias_lanes(j, n0, rows);
    if (j.w_bits == 8)
      int8_all_tokens<true>(j, fold, e, sw_sum, sw_t, zw_t, bias, out, ldo, rows);
    else
      int8_all_tokens<false>(j, fold, e, sw_sum, sw_t, zw_t, bias, out, ldo, rows);
  }

  // ---- bitplane ---------------------------------------------------------------------------------

  static size_t bitplane_scratch_bytes(const GemmJob& j) {
    return static_cast<size_t>(j.w_bits * (j.k / 32) + 3 * j.groups) * V * 4;
  }

  // Σ_j s_j 2^j popc(planes_j AND x) over the weight planes, by Horner steps from the top plane.
  static vi plane_dot(const vi* planes, int bits, bool is_signed, vi x) {
    vi t = O::popcnt(O::and_(planes[bits - 1], x));
    if (is_signed) t = O::sub_i(O::zero_i(), t);
    for (int b = bits - 2; b >= 0; --b) t = O::add_i(O::add_i(t, t), O::popcnt(O::and_(planes[b], x)));
    return t;
  }

  template <int MB>
  static void bitplane_tokens(const GemmJob& j, int fold, int64_t m0, const int32_t* planes_t, const int32_t* sw_sum,
                              const float* sw_t, const int32_t* zw_t, vf bias, float* out, int64_t ldo, int rows) {
    const auto* x = static_cast<const uint32_t*>(j.x);
    const int64_t words = j.k / 32, group_words = j.group_len / 32;
    const int p = j.w_bits, q = j.x_bits;
    vf acc[MB];
    for (int r = 0; r < MB; ++r) acc[r] = O::zero_f();
    for (int64_t g = 0; g < j.groups; ++g) {
      vi d[MB];
      for (int r = 0; r < MB; ++r) d[r] = O::zero_i();
      for (int64_t t = g * group_words; t < (g + 1) * group_words; ++t) {
        vi w[8];
        for (int b = 0; b < p; ++b) w[b] = O::load_i(planes_t + (b * words + t) * V);
        for (int r = 0; r < MB; ++r) {
          const int64_t m = m0 + r;
          vi dot = plane_dot(w, p, j.w_signed, O::set1_i(static_cast<int32_t>(x[((q - 1) * j.m + m) * words + t])));
          if (j.x_signed) dot = O::sub_i(O::zero_i(), dot);
          for (int i = q - 2; i >= 0; --i)
            dot = O::add_i(O::add_i(dot, dot),
                           plane_dot(w, p, j.w_signed, O::set1_i(static_cast<int32_t>(x[(i * j.m + m) * words + t]))));
          d[r] = O::add_i(d[r], dot);
        }
      }
      const vi sw = O::load_i(sw_sum + g * V), zw = O::load_i(zw_t + g * V);
      const vf scale = O::load_f(sw_t + g * V), swf = O::cvt(sw), zwf = O::cvt(zw);
      for (int r = 0; r < MB; ++r) {
        const int64_t m = m0 + r;
        acc[r] = O::fma(scale, group_sum(j, fold, d[r], sw, zw, swf, zwf, m, g), acc[r]);
      }
    }
    for (int r = 0; r < MB; ++r)
      O::store_f_n(out + (m0 + r) * ldo, O::fma(acc[r], O::set1_f(j.x_scales[m0 + r]), bias), rows);
  }

  static void bitplane_block(const GemmJob& j, int64_t n0, void* scratch, float* out, int64_t ldo) {
    const int rows = block_rows(j, n0);
    const int64_t words = j.k / 32, group_words = j.group_len / 32;
    auto* planes_t = static_cast<int32_t*>(scratch);
    int32_t* sw_sum = planes_t + j.w_bits * words * V;
    auto* sw_t = reinterpret_cast<float*>(sw_sum + j.groups * V);
    int32_t* zw_t = reinterpret_cast<int32_t*>(sw_t + j.groups * V);
    const int fold = transpose_groups(j, n0, rows, 0, sw_t, zw_t);
    for (int b = 0; b < j.w_bits; ++b)
      for (int64_t t = 0; t < words; ++t)
        O::store_i(planes_t + (b * words + t) * V, O::gather_rows(j.w + (b * j.n + n0) * words + t, words, rows));
    const vi ones = O::set1_i(-1);
    for (int64_t g = 0; g < j.groups; ++g) {
      vi sum = O::zero_i();
      for (int64_t t = g * group_words; t < (g + 1) * group_words; ++t) {
        vi w[8];
        for (int b = 0; b < j.w_bits; ++b) w[b] = O::load_i(planes_t + (b * words + t) * V);
        sum = O::add_i(sum, plane_dot(w, j.w_bits, j.w_signed, ones));
      }
      O::store_i(sw_sum + g * V, sum);
    }
    const vf bias = bias_lanes(j, n0, rows);
    int64_t m0 = 0;
    for (; m0 + 4 <= j.m; m0 += 4) bitplane_tokens<4>(j, fold, m0, planes_t, sw_sum, sw_t, zw_t, bias, out, ldo, rows);
    switch (j.m - m0) {
      case 3: bitplane_tokens<3>(j, fold, m0, planes_t, sw_sum, sw_t, zw_t, bias, out, ldo, rows); break;
      case 2: bitplane_tokens<2>(j, fold, m0, planes_t, sw_sum, sw_t, zw_t, bias, out, ldo, rows); break;
      case 1: bitplane_tokens<1>(j, fold, m0, planes_t, sw_sum, sw_t, zw_t, bias, out, ldo, rows); break;
      default: break;
    }
  }

  // ---- weight_only ------------------------------------------------------------------------------

  // Moves (g, into) = (q / len, q % len) on to q + step.
  static void advance_group(int64_t step, int64_t len, int64_t& g, int64_t& into) {
    for (into += step; into >= len; into -= len) ++g;
  }

  // One slice of one row for MB tokens: tot[r] += Σ lanes of sw·2^shift·Σ_e field_e · x_e.
  template <int W, int MB>
  static void weight_only_slice(const GemmJob& j, int s, const SliceSet& set, int64_t n, int64_t m0, vf* tot_out) {
    // Sums in registers: through the pointer they were stored back every vector.
    vf tot[MB];
    for (int r = 0; r < MB; ++r) tot[r] = tot_out[r];
    constexpr int P = 32 / W;
    const int64_t row_words = j.k * W / 32, vectors = (row_words + V - 1) / V;
    const uint32_t* row = j.w + set.word_offset_per_nk32[s] * (j.n * j.k / 32) + n * row_words;
    const bool top = j.w_signed && s == set.count - 1;
    const vi flip = O::set1_i(top ? static_cast<int32_t>(0x01010101u * ((0xFFu / ((1u << W) - 1u)) << (W - 1)))
                                  : 0);
    constexpr int NA = MB >= 4 ? 1 : (MB >= 2 ? 2 : 4);
    const vi mask = O::set1_i((1 << W) - 1);
    const vf table = O::field_table(W);
    const vf pow2 = O::set1_f(static_cast<float>(1 << set.shift[s]));
    const int lanes_per_group = V * P > j.group_len ? static_cast<int>(j.group_len / P) : V;
    const vi group_of_lane = O::group_index(lanes_per_group);
    const float* scales = j.w_scales + n * j.groups;
    const float* xp[MB];
    for (int r = 0; r < MB; ++r) xp[r] = j.x_perm[s] + (m0 + r) * j.x_perm_stride[s];
    // g0 = v·V·P / group_len (the group of the vector's first field), advanced by subtraction: a
    // 64-bit division per vector cost more scalar work than the vector's own bookkeeping.
    int64_t g0 = 0, into_group = 0;
    for (int64_t v = 0; v < vectors; ++v, advance_group(V * P, j.group_len, g0, into_group)) {
      const vi words = O::xor_(O::load_i_n(row + v * V, static_cast<int>(min64(V, row_words - v * V))), flip);
      // One group per vector (the common case): a broadcast instead of a lane permute.
      const vf group_scale = lanes_per_group == V
                                 ? O::set1_f(scales[g0])
                                 : O::gather_groups(scales + g0, static_cast<int>(min64(V, j.groups - g0)), group_of_lane);
      const vf lane_scale = set.shift[s] == 0 ? group_scale : O::mul(group_scale, pow2);
      __builtin_prefetch(row + v * V + kPrefetchWords, 0, ABQ_CPU_PREFETCH_HINT);
      // NA independent sums per token: one FMA chain would wait out the FMA latency each step.
      vf a[MB][NA];
      for (int r = 0; r < MB; ++r)
        for (int c = 0; c < NA; ++c) a[r][c] = O::zero_f();
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 32
#endif
      for (int e = 0; e < P; ++e) {
        const int pos = 8 * (e % 4) + W * (e / 4);
        const vi shifted = pos == 0 ? words : O::srl(words, pos);
        // Fields of ≤ O::kLutBits bits: a table lookup on the low index bits of the lane replaces
        // mask + convert (entries repeat every 2^W, so the neighbouring fields above are ignored).
        const vf f = W <= O::kLutBits ? O::lut(shifted, table) : O::cvt(O::and_(shifted, mask));
        for (int r = 0; r < MB; ++r) a[r][e % NA] = O::fma(f, O::load_f(xp[r] + (v * P + e) * V), a[r][e % NA]);
      }
      for (int r = 0; r < MB; ++r) {
        vf sum = a[r][0];
        for (int c = 1; c < NA; ++c) sum = O::add_f(sum, a[r][c]);
        tot[r] = O::fma(sum, lane_scale, tot[r]);
      }
    }
    for (int r = 0; r < MB; ++r) tot_out[r] = tot[r];
  }

  // 3-bit codes (W3, W2*: a 2-bit slice plus a 1-bit slice) in one pass over the 2-bit lanes: lane i
  // of vector v holds 2-bit word T = v·V + i (k = 16T + e, field at 8(e%4) + 2(e/4)); the same k sit
  // in 1-bit word T/2 at bit 8(e%4) + 4(T%2) + e/4. Spreading the 1-bit words so lane i holds word
  // T/2 >> 4(T%2), shifted up by 2, puts the top bit of field e at bit 2 after a shift by
  // 8(e%4) + e/4; a bit select then forms the 3-bit table index.
  template <int MB>
  static void weight_only_three(const GemmJob& j, const SliceSet& set, int64_t n, int64_t m0, vf* tot_out) {
    // Sums in registers: through the pointer they were stored back every vector.
    vf tot[MB];
    for (int r = 0; r < MB; ++r) tot[r] = tot_out[r];
    constexpr int P = 16;
    constexpr int NA = MB >= 4 ? 1 : (MB >= 2 ? 2 : 4);
    const int64_t words2 = j.k / 16, words1 = j.k / 32, vectors = (words2 + V - 1) / V;
    const uint32_t* row2 = j.w + set.word_offset_per_nk32[0] * (j.n * j.k / 32) + n * words2;
    const uint32_t* row1 = j.w + set.word_offset_per_nk32[1] * (j.n * j.k / 32) + n * words1;
    const vi flip = O::set1_i(j.w_signed ? -1 : 0), top = O::set1_i(4);
    const vf table = O::field_table(3);
    const int lanes_per_group = V * P > j.group_len ? static_cast<int>(j.group_len / P) : V;
    const vi group_of_lane = O::group_index(lanes_per_group);
    const float* scales = j.w_scales + n * j.groups;
    const float* xp[MB];
    for (int r = 0; r < MB; ++r) xp[r] = j.x_perm[0] + (m0 + r) * j.x_perm_stride[0];
    int64_t g0 = 0, into_group = 0;  // g0 = v·V·P / group_len, as in weight_only_slice
    for (int64_t v = 0; v < vectors; ++v, advance_group(V * P, j.group_len, g0, into_group)) {
      const vi a = O::load_i_n(row2 + v * V, static_cast<int>(min64(V, words2 - v * V)));
      __builtin_prefetch(row2 + v * V + kPrefetchWords, 0, ABQ_CPU_PREFETCH_HINT);
      __builtin_prefetch(row1 + v * V / 2 + kPrefetchWords / 2, 0, ABQ_CPU_PREFETCH_HINT);
      const vi b = O::sll(O::spread_pairs(O::xor_(O::load_i_n(row1 + v * V / 2, static_cast<int>(min64((V + 1) / 2, words1 - v * V / 2))), flip), v), 2);
      const vf lane_scale = lanes_per_group == V
                                ? O::set1_f(scales[g0])
                                : O::gather_groups(scales + g0, static_cast<int>(min64(V, j.groups - g0)), group_of_lane);
      vf acc[MB][NA];
      for (int r = 0; r < MB; ++r)
        for (int c = 0; c < NA; ++c) acc[r][c] = O::zero_f();
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 16
#endif
      for (int e = 0; e < P; ++e) {
        const int pos2 = 8 * (e % 4) + 2 * (e / 4), pos1 = 8 * (e % 4) + e / 4;
        const vi idx = O::select(top, O::srl(b, pos1), pos2 == 0 ? a : O::srl(a, pos2));
        const vf f = O::kLutBits >= 3 ? O::lut(idx, table) : O::cvt(O::and_(idx, O::set1_i(7)));
        for (int r = 0; r < MB; ++r) acc[r][e % NA] = O::fma(f, O::load_f(xp[r] + (v * P + e) * V), acc[r][e % NA]);
      }
      for (int r = 0; r < MB; ++r) {
        vf sum = acc[r][0];
        for (int c = 1; c < NA; ++c) sum = O::add_f(sum, acc[r][c]);
        tot[r] = O::fma(sum, lane_scale, tot[r]);
      }
    }
    for (int r = 0; r < MB; ++r) tot_out[r] = tot[r];
  }

  template <int MB>
  static void weight_only_tokens(const GemmJob& j, const SliceSet& set, int64_t n, int64_t m0, float* out, int64_t ldo) {
    vf tot[MB];
    for (int r = 0; r < MB; ++r) tot[r] = O::zero_f();
    if (j.w_bits == 3) {
      weight_only_three<MB>(j, set, n, m0, tot);
    } else {
      for (int s = 0; s < set.count; ++s) switch (set.width[s]) {
        case 8: weight_only_slice<8, MB>(j, s, set, n, m0, tot); break;
        case 4: weight_only_slice<4, MB>(j, s, set, n, m0, tot); break;
        case 2: weight_only_slice<2, MB>(j, s, set, n, m0, tot); break;
        default: weight_only_slice<1, MB>(j, s, set, n, m0, tot); break;
      }
    }
    const float bias = j.bias != nullptr ? j.bias[n] : 0.0f;
    for (int r = 0; r < MB; ++r)
      out[(m0 + r) * ldo] = (O::hsum(tot[r]) - zero_point_term(j, n, j.x_fsums + (m0 + r) * j.groups)) + bias;
  }

  // Σ_g sw·zw·Σx of row n for one token (xs: its [G] group sums). V groups per step: a scalar
  // loop would be one serial add chain of G steps per row, as long as the row's own work at g128.
  static float zero_point_term(const GemmJob& j, int64_t n, const float* xs) {
    const float* scales = j.w_scales + n * j.groups;
    const float sign_zero = j.w_signed ? static_cast<float>(1 << (j.w_bits - 1)) : 0.0f;
    if (j.groups < V) {
      float term = 0.0f;
      for (int64_t g = 0; g < j.groups; ++g)
        term += scales[g] * (j.w_zeros != nullptr ? static_cast<float>(j.w_zeros[n * j.groups + g]) : sign_zero) * xs[g];
      return term;
    }
    const auto* zeros = j.w_zeros != nullptr ? reinterpret_cast<const uint32_t*>(j.w_zeros + n * j.groups) : nullptr;
    vf acc = O::zero_f();
    for (int64_t g = 0; g < j.groups; g += V) {
      const int count = static_cast<int>(min64(V, j.groups - g));
      // Lanes past the row's groups load zero scales, so they add nothing.
      const vf zw = zeros != nullptr ? O::cvt(O::load_i_n(zeros + g, count)) : O::set1_f(sign_zero);
      acc = O::fma(O::mul(O::load_f_n(scales + g, count), zw), O::load_f_n(xs + g, count), acc);
    }
    return O::hsum(acc);
  }

  // ---- weight_only for many tokens (lanes = output channels) -------------------------------------
  // The block's weights are dequantized once to fp32, (w − zw)·sw with one lane per channel, then
  // each token is an outer-product sweep: per k one weight vector times the broadcast x[m][k].

  static size_t weight_only_scratch_bytes(const GemmJob& j) {
    return static_cast<size_t>(j.k / 4 + j.k + 2 * j.groups) * V * 4;
  }

  template <int MB>
  static void weight_only_block_tokens(const GemmJob& j, int64_t m0, const float* wf, vf bias, float* out, int64_t ldo,
                                       int rows) {
    vf acc[MB];
    for (int r = 0; r < MB; ++r) acc[r] = O::zero_f();
    const float* x = j.x_f32 + m0 * j.k;
    for (int64_t k = 0; k < j.k; ++k) {
      const vf w = O::load_f(wf + k * V);
      for (int r = 0; r < MB; ++r) acc[r] = O::fma(w, O::set1_f(x[r * j.k + k]), acc[r]);
    }
    for (int r = 0; r < MB; ++r) O::store_f_n(out + (m0 + r) * ldo, O::add_f(acc[r], bias), rows);
  }

  static void weight_only_block(const GemmJob& j, int64_t n0, void* scratch, float* out, int64_t ldo) {
    const int rows = block_rows(j, n0);
    auto* e = static_cast<int32_t*>(scratch);
    auto* wf = reinterpret_cast<float*>(e + (j.k / 4) * V);
    float* sw_t = wf + j.k * V;
    auto* zw_t = reinterpret_cast<int32_t*>(sw_t + j.groups * V);
    const int32_t sign_offset = j.w_signed ? (1 << (j.w_bits - 1)) : 0;
    transpose_groups(j, n0, rows, sign_offset, sw_t, zw_t);
    expand_codes(j, n0, rows, e);
    const vi flip = O::set1_i(static_cast<int32_t>(0x01010101u * static_cast<uint32_t>(sign_offset)));
    const vi byte = O::set1_i(0xff);
    const int64_t quads = j.group_len / 4;
    for (int64_t g = 0; g < j.groups; ++g) {
      const vf scale = O::load_f(sw_t + g * V), zero = O::cvt(O::load_i(zw_t + g * V));
      for (int64_t q = g * quads; q < (g + 1) * quads; ++q) {
        const vi u = O::xor_(O::load_i(e + q * V), flip);
        for (int b = 0; b < 4; ++b) {
          const vf code = O::cvt(O::and_(O::srl(u, 8 * b), byte));
          O::store_f(wf + (4 * q + b) * V, O::mul(O::sub_f(code, zero), scale));
        }
      }
    }
    const vf bias = bias_lanes(j, n0, rows);
    int64_t m0 = 0;
    for (; m0 + 8 <= j.m; m0 += 8) weight_only_block_tokens<8>(j, m0, wf, bias, out, ldo, rows);
    switch (j.m - m0) {
      case 7: weight_only_block_tokens<7>(j, m0, wf, bias, out, ldo, rows); break;
      case 6: weight_only_block_tokens<6>(j, m0, wf, bias, out, ldo, rows); break;
      case 5: weight_only_block_tokens<5>(j, m0, wf, bias, out, ldo, rows); break;
      case 4: weight_only_block_tokens<4>(j, m0, wf, bias, out, ldo, rows); break;
      case 3: weight_only_block_tokens<3>(j, m0, wf, bias, out, ldo, rows); break;
      case 2: weight_only_block_tokens<2>(j, m0, wf, bias, out, ldo, rows); break;
      case 1: weight_only_block_tokens<1>(j, m0, wf, bias, out, ldo, rows); break;
      default: break;
    }
  }

  static void weight_only_rows(const GemmJob& j, int64_t n0, int64_t n1, float* out, int64_t ldo) {
    const SliceSet set = abq::kernels::tile::slices_for_bits(j.w_bits);
    // Tokens in chunks of 16, so their reordered activations stay in L2 while the rows pass.
    for (int64_t mc = 0; mc < j.m; mc += 16) {
      const int64_t me = min64(j.m, mc + 16);
      for (int64_t n = n0; n < n1; ++n) {
        float* o = out + (n - n0);
        int64_t m0 = mc;
        for (; m0 + 4 <= me; m0 += 4) weight_only_tokens<4>(j, set, n, m0, o, ldo);
        switch (me - m0) {
          case 3: weight_only_tokens<3>(j, set, n, m0, o, ldo); break;
          case 2: weight_only_tokens<2>(j, set, n, m0, o, ldo); break;
          case 1: weight_only_tokens<1>(j, set, n, m0, o, ldo); break;
          default: break;
        }
      }
    }
  }

  // ---- activation quantizer ---------------------------------------------------------------------

  static void quantize_rows(const float* x, int64_t m, int64_t k, int bits, int levels, bool is_signed, bool planes,
                            int64_t r0, int64_t r1, void* codes, float* scales, int32_t* zeros) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = x + r * k;
      vf vlo = O::set1_f(row[0]), vhi = vlo;
      int64_t i = 0;
      for (; i + V <= k; i += V) {
        const vf v = O::load_f(row + i);
        vlo = O::min_f(vlo, v);
        vhi = O::max_f(vhi, v);
      }
      float lo = O::hmin(vlo), hi = O::hmax(vhi);
      for (; i < k; ++i) {
        lo = minf(lo, row[i]);
        hi = maxf(hi, row[i]);
      }
      // The reference's formulas (reference/act_quant_reference.cpp), operation for operation.
      float delta, z = 0.0f, qmin, qmax;
      if (is_signed) {
        qmax = static_cast<float>((1 << (bits - 1)) - 1);
        qmin = static_cast<float>(-(1 << (bits - 1)));
        const float absmax = maxf(hi < 0 ? -hi : hi, lo < 0 ? -lo : lo);
        delta = clampf(absmax / qmax, 1e-5f, 1e4f);
      } else {
        qmax = static_cast<float>(levels - 1);
        qmin = 0.0f;
        delta = clampf((hi - lo) / qmax, 1e-5f, 1e4f);
        z = O::round_even_scalar(clampf(-lo / delta, -1e4f, 1e4f));
        zeros[r] = static_cast<int32_t>(z);
      }
      scales[r] = delta;
      quantize_row(row, k, bits, delta, z, qmin, qmax, is_signed, planes, m, r, codes);
    }
  }

  static vi quantize_vector(vf v, vf delta, vf z, vf qmin, vf qmax, bool is_signed) {
    vf q = O::round_even(O::div(v, delta));
    if (!is_signed) q = O::add_f(q, z);
    return O::cvtt(O::min_f(O::max_f(q, qmin), qmax));
  }

  static void quantize_row(const float* row, int64_t k, int bits, float delta, float z, float qmin, float qmax,
                           bool is_signed, bool planes, int64_t m, int64_t r, void* codes) {
    const vf vd = O::set1_f(delta), vz = O::set1_f(z), vmin = O::set1_f(qmin), vmax = O::set1_f(qmax);
    if (!planes) {
      auto* out = static_cast<uint8_t*>(codes) + r * k;
      int64_t i = 0;
      for (; i + V <= k; i += V) O::store_bytes(out + i, quantize_vector(O::load_f(row + i), vd, vz, vmin, vmax, is_signed));
      for (; i < k; ++i) {
        float q = O::round_even_scalar(row[i] / delta);
        if (!is_signed) q = q + z;
        out[i] = static_cast<uint8_t>(static_cast<int32_t>(clampf(q, qmin, qmax)) & 0xff);
      }
      return;
    }
    auto* out = static_cast<uint32_t*>(codes);
    const int64_t words = k / 32;
    for (int64_t t = 0; t < words; ++t) {
      uint32_t plane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int c = 0; c < 32 / V; ++c) {
        const vi q = quantize_vector(O::load_f(row + 32 * t + c * V), vd, vz, vmin, vmax, is_signed);
        for (int b = 0; b < bits; ++b) plane[b] |= O::bitmask(q, b) << (c * V);
      }
      for (int b = 0; b < bits; ++b) out[(b * m + r) * words + t] = plane[b];
    }
  }

  static abq::kernels::cpu::IsaKernels table() {
    abq::kernels::cpu::IsaKernels t;
    t.lanes = V;
    t.int8_scratch_bytes = &int8_scratch_bytes;
    t.int8_block = &int8_block;
    t.bitplane_scratch_bytes = &bitplane_scratch_bytes;
    t.bitplane_block = &bitplane_block;
    t.weight_only_rows = &weight_only_rows;
    t.weight_only_scratch_bytes = &weight_only_scratch_bytes;
    t.weight_only_block = &weight_only_block;
    t.quantize_rows = &quantize_rows;
    return t;
  }
};

}  // namespace kern

// Portable scalar instantiation of the CPU kernels (simd_kernels.h with one lane): no ISA
// extension is assumed, so it runs on any CPU and serves as the fallback of every path.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_job.h"
#include "kernels/tile/sliced_layout.h"

namespace {

struct ScalarOps {
  static constexpr int V = 1;
  using vi = int32_t;
  using vf = float;

  static vi as_i(uint32_t u) { return static_cast<int32_t>(u); }
  static uint32_t as_u(vi v) { return static_cast<uint32_t>(v); }

  static vi zero_i() { return 0; }
  static vi set1_i(int32_t v) { return v; }
  static vi load_i(const int32_t* p) { return *p; }
  static vi load_i_n(const uint32_t* p, int n) { return n > 0 ? as_i(*p) : 0; }
  static void store_i(int32_t* p, vi v) { *p = v; }
  static vi gather_rows(const uint32_t* p, int64_t, int) { return as_i(*p); }
  static vi and_(vi a, vi b) { return a & b; }
  static vi or_(vi a, vi b) { return a | b; }
  static vi xor_(vi a, vi b) { return a ^ b; }
  static vi add_i(vi a, vi b) { return as_i(as_u(a) + as_u(b)); }
  static vi sub_i(vi a, vi b) { return as_i(as_u(a) - as_u(b)); }
  static vi srl(vi v, int n) { return as_i(as_u(v) >> n); }
  static vi sll(vi v, int n) { return as_i(as_u(v) << n); }
  // Σ over the 4 bytes: unsigned byte of u times signed byte of x4.
  static vi dpbusd(vi acc, vi u, int32_t x4) {
    for (int b = 0; b < 4; ++b)
      acc += static_cast<int32_t>((as_u(u) >> (8 * b)) & 0xffu) * static_cast<int8_t>((as_u(x4) >> (8 * b)) & 0xffu);
    return acc;
  }
  static vi dpbusd_wide(vi acc, vi u, int32_t x4) { return dpbusd(acc, u, x4); }
  static vi mullo(vi a, vi b) { return as_i(as_u(a) * as_u(b)); }
  static vi popcnt(vi v) {
    uint32_t u = as_u(v), c = 0;
    for (; u != 0; u &= u - 1) ++c;
    return static_cast<int32_t>(c);
  }

  static vf zero_f() { return 0.0f; }
  static vf set1_f(float v) { return v; }
  static vf load_f(const float* p) { return *p; }
  static vf load_f_n(const float* p, int n) { return n > 0 ? *p : 0.0f; }
  static void store_f_n(float* p, vf v, int n) {
    if (n > 0) *p = v;
  }
  static void store_f(float* p, vf v) { *p = v; }
  static vf sub_f(vf a, vf b) { return a - b; }
  static vf fma(vf a, vf b, vf c) { return std::fma(a, b, c); }
  static vf mul(vf a, vf b) { return a * b; }
  static vf add_f(vf a, vf b) { return a + b; }
  static vf div(vf a, vf b) { return a / b; }
  static vf cvt(vi v) { return static_cast<float>(v); }
  static float hsum(vf v) { return v; }
  static float hmin(vf v) { return v; }
  static float hmax(vf v) { return v; }
  static vf min_f(vf a, vf b) { return b < a ? b : a; }
  static vf max_f(vf a, vf b) { return a < b ? b : a; }
  static vf round_even(vf v) { return std::nearbyint(v); }
  static float round_even_scalar(float v) { return std::nearbyint(v); }
  static vi cvtt(vf v) { return static_cast<int32_t>(v); }
  static uint32_t bitmask(vi v, int b) { return (as_u(v) >> b) & 1u; }
  static void store_bytes(uint8_t* p, vi v) { *p = static_cast<uint8_t>(as_u(v) & 0xffu); }
  static constexpr int kLutBits = 0;  // no table: mask and convert
  static vf field_table(int) { return 0.0f; }
  static vf lut(vi, vf) { return 0.0f; }
  // One lane: 2-bit word v reads 1-bit word v/2 (loaded by the caller) from bit 4·(v%2).
  static vi spread_pairs(vi w, int64_t v) { return srl(w, 4 * static_cast<int>(v % 2)); }
  static vi select(vi mask, vi a, vi b) { return (a & mask) | (b & ~mask); }
  static vi group_index(int) { return 0; }
  static vf gather_groups(const float* s, int count, vi) { return count > 0 ? *s : 0.0f; }

  // I = D − zw·Sx − zx·Sw + L·zx·zw, exact in double, rounded once to float.
  static vf fold(vi d, vi sw, int32_t sx, int32_t zx, vi zw, int64_t len) {
    const double i = double(d) - double(zw) * double(sx) - double(zx) * double(sw) +
                     double(len) * double(zx) * double(zw);
    return static_cast<float>(i);
  }
};

#include "kernels/cpu/simd_kernels.h"

}  // namespace

namespace abq::kernels::cpu {

const IsaKernels& scalar_kernels() {
  static const IsaKernels table = kern::Kernels<ScalarOps>::table();
  return table;
}

}  // namespace abq::kernels::cpu

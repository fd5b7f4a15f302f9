// CPU emulation of the bit-plane GEMM (see bitplane_gemm_emulation.h).
#include "kernels/reference/bitplane_gemm_emulation.h"

#include <bitset>

#include "framework/core/error.h"
#include "kernels/launch/format_check.h"

namespace abq::kernels::reference {
namespace {

int popc(uint32_t v) { return static_cast<int>(std::bitset<32>(v).count()); }

// Weight of plane b of an operand: 2^b, negated for the top plane of a signed format.
int64_t plane_weight(int b, int bits, bool is_signed) {
  const int64_t w = int64_t(1) << b;
  return (is_signed && b == bits - 1) ? -w : w;
}

}  // namespace

std::vector<int64_t> bitplane_group_sums(const std::vector<uint32_t>& x_planes, int64_t m, const abq_act_format& xf,
                                         const std::vector<int32_t>& x_zeros, const std::vector<uint32_t>& w_planes,
                                         int64_t n, const abq_weight_format& wf, const std::vector<int32_t>& w_zeros,
                                         int64_t k) {
  const std::string problem = launch::check_problem(m, n, k, wf, xf);
  if (!problem.empty()) throw Error(cat("bitplane_group_sums: ", problem));
  if (xf.bits > 8) throw Error("bitplane_group_sums: activations must be quantized (bits <= 8)");
  const int64_t words = k / 32, G = launch::group_count(k, wf.group_size);
  const int64_t L = launch::group_length(k, wf.group_size), group_words = L / 32;
  if (static_cast<int64_t>(x_planes.size()) != xf.bits * m * words || static_cast<int64_t>(w_planes.size()) != wf.bits * n * words)
    throw Error(cat("bitplane_group_sums: plane arrays have ", x_planes.size(), " and ", w_planes.size(),
                    " words, expected ", xf.bits * m * words, " and ", wf.bits * n * words));
  if (static_cast<int64_t>(x_zeros.size()) != (xf.is_signed ? 0 : m) ||
      static_cast<int64_t>(w_zeros.size()) != (wf.is_signed ? 0 : n * G))
    throw Error("bitplane_group_sums: zero-point arrays must be empty for signed formats and [M] / [N][G] otherwise");

  std::vector<int64_t> out(static_cast<size_t>(m * n * G));
  for (int64_t mi = 0; mi < m; ++mi)
    for (int64_t ni = 0; ni < n; ++ni)
      for (int64_t g = 0; g < G; ++g) {
        int64_t d = 0, sx = 0, sw = 0;
        for (int64_t w = g * group_words; w < (g + 1) * group_words; ++w) {
          for (int i = 0; i < xf.bits; ++i) {
            const uint32_t xw = x_planes[(i * m + mi) * words + w];
            sx += plane_weight(i, xf.bits, xf.is_signed) * popc(xw);
            for (int j = 0; j < wf.bits; ++j) {
              const uint32_t ww = w_planes[(j * n + ni) * words + w];
              d += plane_weight(i, xf.bits, xf.is_signed) * plane_weight(j, wf.bits, wf.is_signed) * popc(xw & ww);
            }
          }
          for (int j = 0; j < wf.bits; ++j)
            sw += plane_weight(j, wf.bits, wf.is_signed) * popc(w_planes[(j * n + ni) * words + w]);
        }
        const int64_t zx = xf.is_signed ? 0 : x_zeros[mi];
        const int64_t zw = wf.is_signed ? 0 : w_zeros[ni * G + g];
        out[(mi * n + ni) * G + g] = d - zw * sx - zx * sw + L * zx * zw;
      }
  return out;
}

}  // namespace abq::kernels::reference

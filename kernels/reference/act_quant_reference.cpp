// CPU per-token activation quantizer (see act_quant_reference.h).
#include "kernels/reference/act_quant_reference.h"

#include <algorithm>
#include <cmath>

#include "framework/core/error.h"
#include "kernels/launch/format_check.h"

namespace abq::kernels::reference {

ActCodes quantize_activations(const std::vector<float>& x, int64_t m, int64_t k, const abq_act_format& fmt) {
  const std::string problem = launch::check_act_format(fmt);
  if (!problem.empty()) throw Error(cat("quantize_activations: ", problem));
  if (fmt.bits > 8) throw Error(cat("quantize_activations: bits must be in 2..8, got ", fmt.bits));
  if (m < 1 || k < 1 || static_cast<int64_t>(x.size()) != m * k)
    throw Error(cat("quantize_activations: expected M*K = ", m * k, " values, got ", x.size()));
  ActCodes out;
  out.fmt = fmt;
  out.m = m;
  out.k = k;
  out.codes.resize(static_cast<size_t>(m * k));
  out.scales.resize(static_cast<size_t>(m));
  if (!fmt.is_signed) out.zeros.resize(static_cast<size_t>(m));
  const int levels = launch::effective_levels(fmt.bits, fmt.levels);
  for (int64_t r = 0; r < m; ++r) {
    const float* row = &x[r * k];
    float lo = row[0], hi = row[0];
    for (int64_t i = 1; i < k; ++i) {
      lo = std::min(lo, row[i]);
      hi = std::max(hi, row[i]);
    }
    if (fmt.is_signed) {
      const int qmax = (1 << (fmt.bits - 1)) - 1, qmin = -(1 << (fmt.bits - 1));
      const float delta = std::clamp(std::max(std::fabs(hi), std::fabs(lo)) / static_cast<float>(qmax), 1e-5f, 1e4f);
      for (int64_t i = 0; i < k; ++i)
        out.codes[r * k + i] = static_cast<int32_t>(std::clamp(std::nearbyint(row[i] / delta), float(qmin), float(qmax)));
      out.scales[r] = delta;
    } else {
      const int qmax = levels - 1;
      const float delta = std::clamp((hi - lo) / static_cast<float>(qmax), 1e-5f, 1e4f);
      const float z = std::nearbyint(std::clamp(-lo / delta, -1e4f, 1e4f));
      for (int64_t i = 0; i < k; ++i)
        out.codes[r * k + i] = static_cast<int32_t>(std::clamp(std::nearbyint(row[i] / delta) + z, 0.0f, float(qmax)));
      out.scales[r] = delta;
      out.zeros[r] = static_cast<int32_t>(z);
    }
  }
  return out;
}

}  // namespace abq::kernels::reference

// The packed GEMM on the exact CPU reference of the kernels (kernels/reference): unpack the
// weight codes, quantize the activations per token over the real K, pad both to k_padded, and
// evaluate the integer group sums and the fp32 epilogue of gemm_reference.h.
#include "framework/packed/packed_gemm.h"

#include <string>
#include <vector>

#include "framework/core/error.h"
#include "kernels/launch/format_check.h"
#include "kernels/reference/act_quant_reference.h"
#include "kernels/reference/gemm_reference.h"

namespace abq::packed {
namespace {

namespace ref = kernels::reference;

// Activations over k_padded: codes (or fp values) of the real K, then padding that contributes 0.
ref::ActCodes padded_activations(const PackedWeight& w, const abq_act_format& act, const float* x, int64_t m) {
  const std::vector<float> values(x, x + m * w.k);
  ref::ActCodes real;
  if (act.bits == 16) {
    real.fmt = act;
    real.m = m;
    real.k = w.k;
    real.values = values;
  } else {
    real = ref::quantize_activations(values, m, w.k, act);
  }
  if (w.k_padded == w.k) return real;
  ref::ActCodes out = real;
  out.k = w.k_padded;
  if (act.bits == 16) {
    out.values.assign(size_t(m * w.k_padded), 0.0f);  // zero activations: exact for any weight code
    for (int64_t r = 0; r < m; ++r)
      std::copy(real.values.begin() + r * w.k, real.values.begin() + (r + 1) * w.k, out.values.begin() + r * w.k_padded);
    return out;
  }
  const int32_t levels = kernels::launch::effective_levels(act.bits, act.levels);
  out.codes.assign(size_t(m * w.k_padded), 0);
  for (int64_t r = 0; r < m; ++r) {
    std::copy(real.codes.begin() + r * w.k, real.codes.begin() + (r + 1) * w.k, out.codes.begin() + r * w.k_padded);
    if (w.padding_exact) continue;  // padded weight codes equal their zero-points: any code works
    // Otherwise the activation code of zero, xq = zx, cancels the padded columns instead.
    const int32_t zx = act.is_signed ? 0 : real.zeros[size_t(r)];
    if (zx < 0 || zx >= levels)
      throw Error(cat("packed GEMM: K ", w.k, " is padded to ", w.k_padded, ", and both a weight zero-point and the "
                      "zero-point ", zx, " of token ", r, " lie outside their code ranges, so the padding cannot "
                      "contribute exactly 0; run this linear simulated (quant.execution: simulated)"));
    std::fill(out.codes.begin() + r * w.k_padded + w.k, out.codes.begin() + (r + 1) * w.k_padded, zx);
  }
  return out;
}

}  // namespace

const char* packed_gemm_backend() { return "kernels/reference"; }

abq_path preferred_layout(const abq_weight_format&, const abq_act_format& act) {
  // The reference unpacks either layout; keep the one the device path for these formats reads.
  return act.bits == 16 ? ABQ_PATH_WEIGHT_ONLY : ABQ_PATH_BITPLANE;
}

void packed_gemm(const PackedWeight& w, const abq_act_format& act, const float* x, int64_t m, const float* bias,
                 float* y) {
  const std::string problem = kernels::launch::check_problem(m, w.n, w.k_padded, w.format, act);
  if (!problem.empty()) throw Error(cat("packed GEMM [", m, " x ", w.k, "] x [", w.n, " x ", w.k, "]: ", problem));
  const ref::WeightCodes weights = unpack(w);
  const ref::ActCodes acts = padded_activations(w, act, x, m);
  const std::vector<float> b = bias ? std::vector<float>(bias, bias + w.n) : std::vector<float>();
  const std::vector<float> out = ref::gemm_reference(weights, acts, b);
  std::copy(out.begin(), out.end(), y);
}

}  // namespace abq::packed

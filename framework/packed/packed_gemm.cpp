// The packed GEMM on the CPU backend of the kernel C API (kernels/cpu/cpu_kernels.h: abq_cpu_gemm
// and abq_cpu_quantize_activations over host pointers, SIMD paths chosen from CPUID). K is
// padded here: weight-only rows with zeros; quantized rows with copies of the token's first value,
// so the fused quantizer sees the real K's range and the padded weight codes (their zero-points)
// cancel the padded activation codes. A weight whose padding could not hold its zero-points
// (packed_weight.h) gets its activations from the reference quantizer over the real K instead,
// padded with the token's zero-point code.
#include "framework/packed/packed_gemm.h"

#include <string>
#include <vector>

#include "framework/core/error.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/launch/format_check.h"
#include "kernels/reference/act_quant_reference.h"
#include "kernels/reference/bitplane_pack.h"
#include "kernels/reference/sliced_pack.h"

namespace abq::packed {
namespace {

namespace ref = kernels::reference;

void require_ok(abq_status status, const char* what) {
  if (status != ABQ_OK) throw Error(cat("packed GEMM: ", what, ": ", abq_last_error()));
}

// Activations quantized over the real K by the reference, padded with each token's code of zero.
struct QuantizedRows {
  std::vector<uint32_t> planes;  // bit-planes (bitplane layout)
  std::vector<uint8_t> bytes;    // int8 containers (sliced layouts)
  std::vector<float> scales;
  std::vector<int32_t> zeros;
};

QuantizedRows quantize_unpadded(const PackedWeight& w, const abq_act_format& act, const float* x, int64_t m) {
  const ref::ActCodes real = ref::quantize_activations(std::vector<float>(x, x + m * w.k), m, w.k, act);
  const int32_t levels = kernels::launch::effective_levels(act.bits, act.levels);
  std::vector<int32_t> codes(size_t(m * w.k_padded), 0);
  for (int64_t r = 0; r < m; ++r) {
    std::copy(real.codes.begin() + r * w.k, real.codes.begin() + (r + 1) * w.k, codes.begin() + r * w.k_padded);
    const int32_t zx = act.is_signed ? 0 : real.zeros[size_t(r)];
    if (zx < 0 || zx >= levels)
      throw Error(cat("packed GEMM: K ", w.k, " is padded to ", w.k_padded, ", and both a weight zero-point and the "
                      "zero-point ", zx, " of token ", r, " lie outside their code ranges, so the padding cannot "
                      "contribute exactly 0; run this linear simulated (quant.execution: simulated)"));
    std::fill(codes.begin() + r * w.k_padded + w.k, codes.begin() + (r + 1) * w.k_padded, zx);
  }
  QuantizedRows out;
  if (w.layout == ABQ_PATH_BITPLANE)
    out.planes = ref::pack_bitplanes(codes, m, w.k_padded, act.bits);
  else
    out.bytes = ref::pack_int8_containers(codes);
  out.scales = real.scales;
  out.zeros = real.zeros;
  return out;
}

}  // namespace

const char* packed_gemm_backend() { return "kernels/cpu"; }

abq_path preferred_layout(const abq_weight_format& weight, const abq_act_format& act) {
  if (act.bits == 16) return ABQ_PATH_WEIGHT_ONLY;
  // The CPU cost model's choice for a prefill-sized problem (M 512 over a 1024 x 1024 weight).
  const abq_path p = abq_cpu_choose_path(512, 1024, 1024, weight, act);
  return p == ABQ_PATH_BITPLANE ? ABQ_PATH_BITPLANE : ABQ_PATH_INT8_UNPACK;
}

void packed_gemm(const PackedWeight& w, const abq_act_format& act, const float* x, int64_t m, const float* bias,
                 float* y) {
  const std::string problem = kernels::launch::check_problem(m, w.n, w.k_padded, w.format, act);
  if (!problem.empty()) throw Error(cat("packed GEMM [", m, " x ", w.k, "] x [", w.n, " x ", w.k, "]: ", problem));
  const int64_t kp = w.k_padded;
  abq_weights weights{w.layout, w.format, int(w.n), int(kp), w.codes.data(), w.scales.data(),
                      w.zeros.empty() ? nullptr : w.zeros.data()};
  // Rows over k_padded: zeros (weight-only) or copies of the token's first value (quantized).
  std::vector<float> rows(size_t(m * kp), 0.0f);
  for (int64_t r = 0; r < m; ++r) {
    std::copy(x + r * w.k, x + (r + 1) * w.k, rows.begin() + r * kp);
    if (act.bits != 16) std::fill(rows.begin() + r * kp + w.k, rows.begin() + (r + 1) * kp, x[r * w.k]);
  }
  abq_activations acts{act, int(m), int(kp), rows.data(), nullptr, nullptr};
  QuantizedRows q;
  if (act.bits != 16) {
    if (w.padding_exact) {
      q.scales.resize(size_t(m));
      q.zeros.resize(size_t(m));
      const abq_path layout = w.layout == ABQ_PATH_BITPLANE ? ABQ_PATH_BITPLANE : ABQ_PATH_INT8_UNPACK;
      if (layout == ABQ_PATH_BITPLANE)
        q.planes.resize(size_t(act.bits * m * kp / 32));
      else
        q.bytes.resize(size_t(m * kp));
      require_ok(abq_cpu_quantize_activations(rows.data(), ABQ_DTYPE_F32, int(m), int(kp), act, layout,
                                              layout == ABQ_PATH_BITPLANE ? static_cast<void*>(q.planes.data())
                                                                          : static_cast<void*>(q.bytes.data()),
                                              q.scales.data(), q.zeros.data()),
                 "quantizing activations");
    } else {
      q = quantize_unpadded(w, act, x, m);
    }
    acts.data = w.layout == ABQ_PATH_BITPLANE ? static_cast<const void*>(q.planes.data()) : static_cast<const void*>(q.bytes.data());
    acts.scales = q.scales.data();
    acts.zeros = act.is_signed ? nullptr : q.zeros.data();
  }
  abq_gemm_args args{&weights, &acts, bias, y, ABQ_DTYPE_F32, ABQ_PATH_AUTO, nullptr};
  require_ok(abq_cpu_gemm(&args), "abq_cpu_gemm");
}

}  // namespace abq::packed

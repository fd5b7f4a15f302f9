// abq_cpu_quantize_activations: the fused per-token quantizer (reference/act_quant_reference.h)
// over host pointers; fp16/bf16 inputs are widened to fp32 first, rows are split over threads.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_dispatch.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/launch/format_check.h"
#include "kernels/reference/half.h"

namespace {

abq_status fail(const std::string& message, abq_status status = ABQ_ERR_INVALID) {
  abq::kernels::launch::set_last_error("abq_cpu_quantize_activations: " + message);
  return status;
}

}  // namespace

extern "C" abq_status abq_cpu_quantize_activations(const void* x, abq_dtype x_dtype, int m, int k, abq_act_format fmt,
                                                   abq_path layout, void* codes, float* scales, int32_t* zeros) {
  using namespace abq::kernels;
  if (layout != ABQ_PATH_BITPLANE && layout != ABQ_PATH_INT8_UNPACK)
    return fail(std::string("layout must be bitplane or int8_unpack, got ") + abq_path_name(layout));
  std::string e = launch::check_act_format(fmt);
  if (!e.empty()) return fail(e);
  if (fmt.bits > 8) return fail("bits must be in 2..8, got " + std::to_string(fmt.bits));
  if (x_dtype != ABQ_DTYPE_F16 && x_dtype != ABQ_DTYPE_BF16 && x_dtype != ABQ_DTYPE_F32)
    return fail("x_dtype must be f16, bf16 or f32, got " + std::to_string(int(x_dtype)));
  if (m < 1 || k < 1) return fail("M and K must be >= 1, got M=" + std::to_string(m) + " K=" + std::to_string(k));
  if (layout == ABQ_PATH_BITPLANE && k % 32 != 0)
    return fail("bit-planes need K % 32 == 0, got K=" + std::to_string(k));
  if (x == nullptr || codes == nullptr || scales == nullptr || (!fmt.is_signed && zeros == nullptr))
    return fail("x, codes, scales and (unsigned formats) zeros must be non-null host pointers");
  const cpu::IsaKernels* isa = cpu::active_kernels(e);
  if (isa == nullptr) return fail(e, ABQ_ERR_UNSUPPORTED);

  std::vector<float> widened;
  const float* xf = static_cast<const float*>(x);
  // At least 2^16 values per thread: smaller calls cost more to fork than to run.
  const int threads = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>(cpu::call_threads(), int64_t(m) * k / (int64_t(1) << 16))));
  if (x_dtype != ABQ_DTYPE_F32) widened.resize(static_cast<size_t>(m) * k);
#pragma omp parallel num_threads(threads) if (threads > 1 && m > 1)
  {
    const int nt = omp_get_num_threads(), tid = omp_get_thread_num();
    const int64_t r0 = int64_t(m) * tid / nt, r1 = int64_t(m) * (tid + 1) / nt;
    const float* rows = xf;
    if (x_dtype != ABQ_DTYPE_F32) {
      const auto* h = static_cast<const uint16_t*>(x);
      for (int64_t i = r0 * k; i < r1 * k; ++i) widened[i] = reference::dtype_to_float(h[i], x_dtype);
      rows = widened.data();
    }
    isa->quantize_rows(rows, m, k, fmt.bits, launch::effective_levels(fmt.bits, fmt.levels), fmt.is_signed != 0,
                       layout == ABQ_PATH_BITPLANE, r0, r1, codes, scales, fmt.is_signed ? nullptr : zeros);
  }
  return ABQ_OK;
}

// The C API of kernels.h: abq_gemm picks the path the packed layouts allow (or the forced one),
// fills the kernel parameters and calls its launcher; abq_quantize_activations wraps the fused
// activation quantizer. Precondition failures return ABQ_ERR_INVALID with abq_last_error() set.
#include <string>

#include "kernels/kernels.h"
#include "kernels/launch/format_check.h"
#include "kernels/launch/launchers.h"

namespace abq::kernels::launch {
namespace {

abq_status fail(const std::string& message) {
  set_last_error("abq_gemm: " + message);
  return ABQ_ERR_INVALID;
}

bool sliced_layout(abq_path layout) { return layout == ABQ_PATH_INT8_UNPACK || layout == ABQ_PATH_WEIGHT_ONLY; }

}  // namespace
}  // namespace abq::kernels::launch

using namespace abq::kernels::launch;

extern "C" abq_status abq_gemm(const abq_gemm_args* args) {
  if (args == nullptr || args->w == nullptr || args->x == nullptr) return fail("args, args->w and args->x must be non-null");
  const abq_weights& w = *args->w;
  const abq_activations& x = *args->x;
  if (w.k != x.k) return fail("weights have K=" + std::to_string(w.k) + " but activations have K=" + std::to_string(x.k));
  std::string e = check_problem(x.m, w.n, w.k, w.fmt, x.fmt);
  if (!e.empty()) return fail(e);
  if (w.layout != ABQ_PATH_BITPLANE && !sliced_layout(w.layout))
    return fail("weights.layout must be bitplane, int8_unpack or weight_only, got " + std::to_string(int(w.layout)));

  abq_path path = args->force_path;
  if (path == ABQ_PATH_AUTO)
    path = w.layout == ABQ_PATH_BITPLANE ? ABQ_PATH_BITPLANE : (x.fmt.bits == 16 ? ABQ_PATH_WEIGHT_ONLY : ABQ_PATH_INT8_UNPACK);
  e = check_path_formats(path, w.fmt, x.fmt);
  if (!e.empty()) return fail(e);
  if ((path == ABQ_PATH_BITPLANE) != (w.layout == ABQ_PATH_BITPLANE))
    return fail(std::string("path ") + abq_path_name(path) + " cannot read weights packed in the " +
                (w.layout == ABQ_PATH_BITPLANE ? "bitplane" : "sliced") + " layout; repack them or force a matching path");
  if (args->out_dtype != ABQ_DTYPE_F16 && args->out_dtype != ABQ_DTYPE_BF16)
    return fail("out_dtype must be f16 or bf16 on the device (f32 is served by abq_cpu_gemm)");
  if (x.fmt.bits == 16 && (x.scales != nullptr || x.zeros != nullptr))
    return fail("fp16/bf16 activations (bits=16) take no scales or zero-points");
  if (x.fmt.bits <= 8 && (x.zeros == nullptr) != (x.fmt.is_signed != 0))
    return fail("activation zero-points must be given iff the activations are unsigned");

  abq::kernels::gemm::GemmParams p;
  p.x = x.data;
  p.w = static_cast<const uint32_t*>(w.codes);
  p.x_scales = x.scales;
  p.x_zeros = x.zeros;
  p.w_scales = w.scales;
  p.w_zeros = w.zeros;
  p.bias = args->bias;
  p.y = args->y;
  p.out_dtype = args->out_dtype;
  p.m = x.m;
  p.n = w.n;
  p.k = w.k;
  p.x_bits = x.fmt.bits;
  p.w_bits = w.fmt.bits;
  p.x_signed = x.fmt.is_signed != 0;
  p.w_signed = w.fmt.is_signed != 0;
  p.group_len = static_cast<int>(group_length(w.k, w.fmt.group_size));
  p.groups = static_cast<int>(group_count(w.k, w.fmt.group_size));
  const auto stream = static_cast<cudaStream_t>(args->stream);
  switch (path) {
    case ABQ_PATH_BITPLANE: return launch_bitplane_gemm(p, stream);
    case ABQ_PATH_INT8_UNPACK: return launch_int8_gemm(p, stream);
    default: return launch_weight_only_gemv(p, stream);
  }
}

extern "C" abq_status abq_quantize_activations(const void* x, abq_dtype x_dtype, int m, int k, abq_act_format fmt,
                                               abq_path layout, void* codes, float* scales, int32_t* zeros,
                                               void* stream) {
  if (layout != ABQ_PATH_BITPLANE && layout != ABQ_PATH_INT8_UNPACK) {
    set_last_error(std::string("quantize_activations: layout must be bitplane or int8_unpack, got ") + abq_path_name(layout));
    return ABQ_ERR_INVALID;
  }
  if (x_dtype != ABQ_DTYPE_F16 && x_dtype != ABQ_DTYPE_BF16) {
    set_last_error("quantize_activations: x_dtype must be f16 or bf16 on the device (f32 is served by abq_cpu_quantize_activations)");
    return ABQ_ERR_INVALID;
  }
  abq::kernels::gemm::ActQuantParams p;
  p.x = x;
  p.x_dtype = x_dtype;
  p.m = m;
  p.k = k;
  p.bits = fmt.bits;
  p.levels = effective_levels(fmt.bits, fmt.levels);
  p.is_signed = fmt.is_signed != 0;
  p.bitplanes = layout == ABQ_PATH_BITPLANE;
  p.codes = codes;
  p.scales = scales;
  p.zeros = fmt.is_signed ? nullptr : zeros;
  return launch_act_quant(p, static_cast<cudaStream_t>(stream));
}

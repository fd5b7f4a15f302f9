// Launcher of the fused per-token activation quantization (gemm/act_quant.cuh).
#include "kernels/arch/cuda_check.h"
#include "kernels/gemm/act_quant.cuh"
#include "kernels/launch/launchers.h"

namespace abq::kernels::launch {

// ---- launchers

abq_status launch_act_quant(const gemm::ActQuantParams& p, cudaStream_t stream) {
  std::string e = check_act_format({p.bits, p.levels, p.is_signed});
  if (e.empty() && p.bits > 8) e = "activation bits must be in 2..8 to quantize, got " + std::to_string(p.bits);
  if (e.empty() && (p.m < 1 || p.k < 32 || p.k % 32 != 0))
    e = "need M >= 1 and K a positive multiple of 32, got M=" + std::to_string(p.m) + " K=" + std::to_string(p.k);
  if (e.empty() && p.m > 2147483647) e = "M too large";
  if (e.empty() && (p.x == nullptr || p.codes == nullptr || p.scales == nullptr || (!p.is_signed && p.zeros == nullptr)))
    e = "x, codes, scales (and zeros for unsigned formats) must be non-null device pointers";
  if (!e.empty()) {
    set_last_error("quantize_activations: " + e);
    return ABQ_ERR_INVALID;
  }
  gemm::act_quant_kernel<<<p.m, gemm::kActQuantThreads, 0, stream>>>(p);
  ABQ_CHECK_LAUNCH("act_quant_kernel");
  return ABQ_OK;
}

}  // namespace abq::kernels::launch

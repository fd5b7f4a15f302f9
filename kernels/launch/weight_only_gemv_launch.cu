// Launcher of the weight-only GEMV (gemm/weight_only_gemv.cuh).
#include "kernels/arch/cuda_check.h"
#include "kernels/gemm/weight_only_gemv.cuh"
#include "kernels/launch/launchers.h"

namespace abq::kernels::launch {

// ---- launchers

abq_status launch_weight_only_gemv(const gemm::GemmParams& p, cudaStream_t stream) {
  const std::string e = check_gemm_params(p, ABQ_PATH_WEIGHT_ONLY);
  if (!e.empty()) {
    set_last_error("weight_only_gemv: " + e);
    return ABQ_ERR_INVALID;
  }
  const dim3 grid((p.n + gemm::kGemvWarps - 1) / gemm::kGemvWarps, (p.m + gemm::kGemvTileM - 1) / gemm::kGemvTileM);
  if (grid.y > 65535u) {
    set_last_error("weight_only_gemv: M=" + std::to_string(p.m) + " needs more than 65535 token tiles; split M");
    return ABQ_ERR_INVALID;
  }
  const tile::SlicedView view = tile::make_sliced_view(p.w, p.n, p.k, p.w_bits, p.w_signed);
  gemm::weight_only_gemv_kernel<<<grid, gemm::kGemvWarps * 32, 0, stream>>>(p, view);
  ABQ_CHECK_LAUNCH("weight_only_gemv_kernel");
  return ABQ_OK;
}

}  // namespace abq::kernels::launch

// Launcher of the bit-plane GEMM (gemm/bitplane_gemm.cuh).
#include "kernels/arch/cuda_check.h"
#include "kernels/gemm/bitplane_gemm.cuh"
#include "kernels/launch/format_check.h"
#include "kernels/launch/launchers.h"

namespace abq::kernels::launch {

// ---- launchers

abq_status launch_bitplane_gemm(const gemm::GemmParams& p, cudaStream_t stream) {
  const std::string e = check_gemm_params(p, ABQ_PATH_BITPLANE);
  if (!e.empty()) {
    set_last_error("bitplane_gemm: " + e);
    return ABQ_ERR_INVALID;
  }
  const dim3 grid((p.n + gemm::kBitplaneTileN - 1) / gemm::kBitplaneTileN,
                  (p.m + gemm::kBitplaneTileM - 1) / gemm::kBitplaneTileM);
  if (grid.y > 65535u) {
    set_last_error("bitplane_gemm: M=" + std::to_string(p.m) + " needs more than 65535 row tiles; split M");
    return ABQ_ERR_INVALID;
  }
  gemm::bitplane_gemm_kernel<<<grid, gemm::kBitplaneWarps * 32, 0, stream>>>(p);
  ABQ_CHECK_LAUNCH("bitplane_gemm_kernel");
  return ABQ_OK;
}

}  // namespace abq::kernels::launch

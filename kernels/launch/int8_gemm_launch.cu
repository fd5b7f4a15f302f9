// Launcher of the int8-unpack GEMM (gemm/int8_gemm.cuh).
#include "kernels/arch/cuda_check.h"
#include "kernels/gemm/int8_gemm.cuh"
#include "kernels/launch/launchers.h"

namespace abq::kernels::launch {

// ---- launchers

abq_status launch_int8_gemm(const gemm::GemmParams& p, cudaStream_t stream) {
  const std::string e = check_gemm_params(p, ABQ_PATH_INT8_UNPACK);
  if (!e.empty()) {
    set_last_error("int8_gemm: " + e);
    return ABQ_ERR_INVALID;
  }
  const dim3 grid((p.n + gemm::kInt8TileN - 1) / gemm::kInt8TileN, (p.m + gemm::kInt8TileM - 1) / gemm::kInt8TileM);
  if (grid.y > 65535u) {
    set_last_error("int8_gemm: M=" + std::to_string(p.m) + " needs more than 65535 token tiles; split M");
    return ABQ_ERR_INVALID;
  }
  const tile::SlicedView view = tile::make_sliced_view(p.w, p.n, p.k, p.w_bits, p.w_signed);
  gemm::int8_gemm_kernel<<<grid, gemm::kInt8Warps * 32, 0, stream>>>(p, view);
  ABQ_CHECK_LAUNCH("int8_gemm_kernel");
  return ABQ_OK;
}

}  // namespace abq::kernels::launch

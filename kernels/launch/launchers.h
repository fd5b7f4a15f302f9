// Host launchers of the gemm/ kernels. Each checks its preconditions (shapes, formats, pointers,
// alignment, grid limits), launches on `stream`, checks the launch, and returns an abq_status with
// abq_last_error() set on failure. Launches are asynchronous; no launcher synchronizes.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/gemm/gemm_params.h"
#include "kernels/kernels.h"
#include "kernels/launch/format_check.h"

namespace abq::kernels::launch {

abq_status launch_bitplane_gemm(const gemm::GemmParams& p, cudaStream_t stream);
abq_status launch_int8_gemm(const gemm::GemmParams& p, cudaStream_t stream);
abq_status launch_weight_only_gemv(const gemm::GemmParams& p, cudaStream_t stream);
abq_status launch_act_quant(const gemm::ActQuantParams& p, cudaStream_t stream);

}  // namespace abq::kernels::launch

// Host-side CUDA error checks for the launchers: every launch is followed by ABQ_CHECK_LAUNCH,
// which turns a launch error into ABQ_ERR_CUDA with the kernel name and CUDA's message.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "kernels/kernels.h"
#include "kernels/launch/format_check.h"

#define ABQ_CHECK_LAUNCH(kernel_name)                                                                   \
  do {                                                                                                  \
    const cudaError_t abq_err_ = cudaGetLastError();                                                    \
    if (abq_err_ != cudaSuccess) {                                                                      \
      ::abq::kernels::launch::set_last_error(std::string("launching ") + (kernel_name) + ": " +         \
                                             cudaGetErrorName(abq_err_) + ": " + cudaGetErrorString(abq_err_)); \
      return ABQ_ERR_CUDA;                                                                              \
    }                                                                                                   \
  } while (0)

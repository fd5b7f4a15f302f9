// Host-side precondition checks shared by the CUDA launchers, the C API and the CPU reference.
// Each returns "" when the request is valid, otherwise one message that says what was expected and
// what was found; callers turn it into an abq_status (C API) or an abq::Error (reference).
#pragma once

#include <cstdint>
#include <string>

#include "kernels/gemm/gemm_params.h"
#include "kernels/kernels.h"

namespace abq::kernels::launch {

/// levels with the 0 = 2^bits default applied.
int effective_levels(int bits, int levels);
/// Number of K groups: K / group_size, or 1 for per-channel (group_size 0).
int64_t group_count(int64_t k, int group_size);
/// Group length along K: group_size, or K for per-channel.
int64_t group_length(int64_t k, int group_size);

std::string check_weight_format(const abq_weight_format& f);
std::string check_act_format(const abq_act_format& f);
/// Shapes: M, N ≥ 1; K ≥ 128, K % 128 == 0 (one b1 MMA step), K % G == 0, and the int32
/// per-group accumulator bound G·(2^p − 1)·(2^q − 1) < 2^31.
/// per-group accumulator bound G·(levels_w − 1)·(levels_x − 1) < 2^31.
std::string check_problem(int64_t m, int64_t n, int64_t k, const abq_weight_format& w, const abq_act_format& x);
/// Whether `path` can run these formats at all (weight-only needs x.bits = 16; the others x.bits ≤ 8).
std::string check_path_formats(abq_path path, const abq_weight_format& w, const abq_act_format& x);

/// Every GEMM launcher's checks of a parameter block for `path` (shapes, formats, pointers,
/// alignment, int32 bounds); "" when valid.
std::string check_gemm_params(const gemm::GemmParams& p, abq_path path);

/// Thread-local last error of the C API.
void set_last_error(const std::string& message);

}  // namespace abq::kernels::launch

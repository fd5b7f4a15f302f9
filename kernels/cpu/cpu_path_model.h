// Fallback of abq_cpu_choose_path where the measured tuning table (cpu_tuning.h) has no entry for
// the bits: an instruction-count model of simd_kernels.h per V-lane vector step:
//   int8_unpack: one 4-byte dot product per 4 k per token, plus the per-block expansion
//                of the sliced codes (slices · K/4 steps per block of V channels);
//   bitplane:    four operations (AND, POPCNT, Horner shift and add) per plane pair per 32 k,
//                i.e. p·q/8 per k per token.
// Ties go to int8_unpack. At M = 1 the expansion dominates and bitplane wins for narrow formats;
// from a few tokens on, int8 wins for every q ≥ 2 (as the measured table also shows).
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace abq::kernels::cpu {

/// Modelled vector instructions per V output channels; negative when the path cannot run it.
double model_cost(abq_path path, int64_t m, int64_t k, const abq_weight_format& w, const abq_act_format& x);

}  // namespace abq::kernels::cpu

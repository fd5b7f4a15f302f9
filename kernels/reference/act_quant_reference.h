// CPU reference of the dynamic per-token activation quantizer (ABQ-LLM / OmniQuant
// UniformAffineQuantizer, spec §5), which the fused device kernel (gemm/act_quant.cuh) matches bit
// for bit. Per token m over its K values, in fp32 with IEEE division and round-half-even:
//
//   unsigned: Δ = clamp((max − min)/(levels − 1), 1e-5, 1e4);  z = rint(clamp(−min/Δ, −1e4, 1e4))
//             q = clamp(rint(x/Δ) + z, 0, levels − 1)
//   signed:   Δ = clamp(max(|max|, |min|)/(2^(bits−1) − 1), 1e-5, 1e4);  no zero-point
//             q = clamp(rint(x/Δ), −2^(bits−1), 2^(bits−1) − 1)
//
// The range is not widened to contain 0 (as in the reference quantizer).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/reference/gemm_reference.h"

namespace abq::kernels::reference {

/// x: [M][K] fp32 values; returns codes, scales and (unsigned formats) zero-points.
ActCodes quantize_activations(const std::vector<float>& x, int64_t m, int64_t k, const abq_act_format& fmt);

}  // namespace abq::kernels::reference

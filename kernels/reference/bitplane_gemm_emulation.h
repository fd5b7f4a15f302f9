// CPU emulation of the bit-plane GEMM (ABQ-LLM's engine, ABQ_PATH_BITPLANE), word for word what
// the device kernel computes, so it must equal integer_group_sums exactly.
//
//   D[m,n,g]  = Σ_i Σ_j s_ij · 2^(i+j) · Σ_{words w ∈ g} popc(X_i[m][w] AND W_j[n][w])
//   Sx[m,g]   = Σ_i s_i · 2^i · Σ_w popc(X_i[m][w])          Sw[n,g] likewise over W_j
//   I[m,n,g]  = D − zw·Sx − zx·Sw + G·zx·zw
//
// s_i = −1 for the top plane of a signed operand, else +1; s_ij = s_i·s_j (ABQ-LLM's rule).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/kernels.h"

namespace abq::kernels::reference {

/// x_planes: [xf.bits][M][K/32]; w_planes: [wf.bits][N][K/32] (bitplane_pack.h layout);
/// x_zeros [M] / w_zeros [N][G], empty for signed formats. Returns int64 [M][N][G].
std::vector<int64_t> bitplane_group_sums(const std::vector<uint32_t>& x_planes, int64_t m, const abq_act_format& xf,
                                         const std::vector<int32_t>& x_zeros, const std::vector<uint32_t>& w_planes,
                                         int64_t n, const abq_weight_format& wf, const std::vector<int32_t>& w_zeros,
                                         int64_t k);

}  // namespace abq::kernels::reference

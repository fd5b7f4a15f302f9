// The packed GEMM backend: the one narrow interface through which packed linears reach the
// kernels, over host memory. y[m][n] = Σ_k x̃[m][k]·W̃[n][k] + bias[n] per the formula and fp32
// epilogue of kernels/kernels.h, where W̃ = (wq − zw)·sw is the packed weight and x̃ is x itself
// (act.bits = 16) or its per-token quantization to `act` (the fused activation quantizer,
// kernels/reference/act_quant_reference.h), computed over the real K before padding.
//
// The implementation (packed_gemm.cpp) is the CPU backend of the kernel C API
// (kernels/cpu/cpu_kernels.h); integer paths equal kernels/reference bit for bit, the weight-only
// path sums in fp32 in its own order. Another backend (CUDA) replaces that one file; every caller
// and test stays as it is. K padding: weight-only rows pad with zeros; quantized rows pad with
// copies of one of the token's own values, so the fused quantizer's per-token range stays that
// of the real K, and the padded weight codes (their zero-points) cancel whatever codes those get.
#pragma once

#include <cstdint>

#include "framework/packed/packed_weight.h"
#include "kernels/kernels.h"

namespace abq::packed {

/// Name of the backend, for logs and benchmark tables ("kernels/reference").
const char* packed_gemm_backend();

/// The weight layout this backend runs fastest for these formats (pack_weight's `layout`).
abq_path preferred_layout(const abq_weight_format& weight, const abq_act_format& act);

/// x: fp32 [m][w.k] row-major; bias: [w.n] or nullptr; y: fp32 [m][w.n]. Throws abq::Error for
/// formats or shapes the kernels refuse (their message), and for the one padding case that has
/// no exact form (packed_weight.h: a zero-point outside the code range on both operands).
void packed_gemm(const PackedWeight& w, const abq_act_format& act, const float* x, int64_t m, const float* bias,
                 float* y);

}  // namespace abq::packed

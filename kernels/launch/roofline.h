// Roofline model that picks a datapath per (M, N, K, format): t = max(bytes / BW, ops / peak) plus a
// fixed launch latency, with the H100 SXM figures of spec kernels-hopper.md §2.2 and §2.4 for the
// instructions our kernels issue (mma.sync, not wgmma):
//   b1 mma.sync AND+popc 10,699 T binary-ops/s, divided by p·q plane pairs (M padded to 8 rows);
//   s8 mma.sync 1,310 TOPS (tokens on the n8 side, M padded to 8);
//   fp32 FMA on CUDA cores 67 TFLOPS for the weight-only GEMV;
//   HBM 2.9 TB/s (measured streaming ceiling), launch latency 2 µs.
// Bytes: N·K·p/8 weights + N·G·8 scale/zero-point + M·K·q/8 activations + M·N·2 output.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace abq::kernels::launch {

struct RooflineFigures {
  double hbm_bytes_per_s = 2.9e12;
  double b1_ops_per_s = 10.699e15;
  double s8_ops_per_s = 1.310e15;
  double fp32_flops_per_s = 66.9e12;
  double launch_us = 2.0;
};

/// Modelled microseconds of one GEMM on `path`; negative when the path cannot run the formats.
double model_time_us(abq_path path, int64_t m, int64_t n, int64_t k, const abq_weight_format& w,
                     const abq_act_format& x, const RooflineFigures& fig = RooflineFigures());

}  // namespace abq::kernels::launch

// The kernels' modelled time of one linear in a given format: what latency budgets of
// mixed-precision allocation cost candidates with (methods/allocation.h, LatencyModel). The
// roofline model of kernels/launch/roofline.h (H100 SXM figures, sm_90), on K padded as packed
// execution pads it; the path is the one abq_choose_path picks. An input spec the kernels cannot
// fuse runs weight-only, as packed execution runs it.
#pragma once

#include <cstdint>

#include "framework/quant/quant_spec.h"

namespace abq::packed {

/// Microseconds for y[tokens, out] = x[tokens, in] · Wᵀ; negative when the weight cannot run packed.
double modelled_linear_time_us(const quant::QuantSpec& weights, const quant::QuantSpec& inputs, int64_t out_features,
                               int64_t in_features, int64_t tokens);

}  // namespace abq::packed

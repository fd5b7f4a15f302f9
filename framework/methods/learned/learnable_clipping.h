// LWC, learnable weight clipping (OmniQuant, Shao et al. ICLR 2024; spec abq-llm-algorithm.md §6):
// each weight row (or group) quantizes the range [σ(β)·min, σ(γ)·max] instead of [min, max], with
// γ, β learned through the fake quantizer's straight-through rounding. Reference:
// bytedance/ABQ-LLM algorithm/quantize/quantizer.py (UniformAffineQuantizer, lwc=True).
#pragma once

#include <torch/torch.h>

#include "framework/quant/fake_quant.h"
#include "framework/quant/quant_spec.h"

namespace abq::methods {

struct ClipFactors {
  torch::Tensor up;   // γ, shape of the spec's range: [O, 1] per_channel, [O, ceil(I/G)] per_group
  torch::Tensor low;  // β, same shape
};

/// γ = β = init (fp32 leaves with grad). Throws abq::Error for a disabled spec or a granularity
/// weights cannot use (per_token, per_head).
ClipFactors init_clip_factors(const torch::Tensor& weight, const quant::QuantSpec& spec, double init);

/// Fake-quantizes weight [O, I] per spec on the clipped range (factors may be null: plain min/max).
/// Differentiable in weight and in the factors.
quant::QuantizedTensor clipped_fake_quant(const torch::Tensor& weight, const quant::QuantSpec& spec,
                                          const ClipFactors* factors, bool with_codes = false);

}  // namespace abq::methods

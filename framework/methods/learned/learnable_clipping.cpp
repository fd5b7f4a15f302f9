#include "framework/methods/learned/learnable_clipping.h"

#include "framework/core/error.h"

namespace abq::methods {

ClipFactors init_clip_factors(const torch::Tensor& weight, const quant::QuantSpec& spec, double init) {
  if (!spec.enabled()) throw Error("learnable weight clipping needs a quantized weight spec (bits < 16)");
  if (spec.granularity == quant::Granularity::per_token || spec.granularity == quant::Granularity::per_head)
    throw Error(cat("learnable weight clipping: weights cannot be quantized ", quant::to_string(spec.granularity),
                    "; use per_channel or per_group"));
  torch::NoGradGuard no_grad;
  const auto max = quant::compute_range(weight.detach().to(torch::kFloat32), spec).max;
  ClipFactors f;
  f.up = torch::full(max.sizes(), init, max.options()).set_requires_grad(true);
  f.low = torch::full(max.sizes(), init, max.options()).set_requires_grad(true);
  return f;
}

quant::QuantizedTensor clipped_fake_quant(const torch::Tensor& weight, const quant::QuantSpec& spec,
                                          const ClipFactors* factors, bool with_codes) {
  quant::FakeQuantOptions options;
  options.with_codes = with_codes;
  if (!factors) return quant::fake_quant(weight, spec, options);
  auto range = quant::compute_range(weight, spec);
  range.max = torch::sigmoid(factors->up) * range.max;
  range.min = torch::sigmoid(factors->low) * range.min;
  return quant::fake_quant_with_range(weight, range, spec, options);
}

}  // namespace abq::methods

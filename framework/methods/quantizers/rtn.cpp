#include "framework/methods/quantizers/rtn.h"

#include <sstream>

#include "framework/core/error.h"
#include "framework/quant/fake_quant.h"

namespace abq::methods {

WeightQuantResult RtnQuantizer::quantize(const torch::Tensor& weight, const quant::QuantSpec& spec,
                                         const WeightContext& ctx) {
  try {
    if (!weight.defined() || weight.dim() != 2) {
      std::ostringstream shape;
      if (weight.defined()) shape << weight.sizes();
      throw Error(cat("expected a weight [out, in], got ", weight.defined() ? shape.str() : "an undefined tensor"));
    }
    const auto g = spec.granularity;
    if (g != quant::Granularity::per_tensor && g != quant::Granularity::per_channel &&
        g != quant::Granularity::per_group) {
      throw Error(cat("weight granularity must be per_tensor, per_channel or per_group; got ", quant::to_string(g)));
    }
    quant::FakeQuantOptions options;
    options.with_codes = true;
    const auto q = quant::fake_quant(weight, spec, options);
    return {q.fake, q.codes, q.scale, q.zero};
  } catch (Error& e) {
    e.with_context(cat("while quantizing ", ctx.site.empty() ? std::string("a weight") : ctx.site, " with rtn (",
                       quant::describe(spec, "w"), ")"));
    throw;
  }
}

const config::OptionSet<RtnOptions>& rtn_options() {
  static const config::OptionSet<RtnOptions> set;
  return set;
}

}  // namespace abq::methods

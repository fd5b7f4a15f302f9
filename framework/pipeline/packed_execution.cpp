#include "framework/pipeline/packed_execution.h"

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/packed/kernel_format.h"
#include "framework/packed/packed_linear.h"

namespace abq::pipeline {

store::Table execute_packed(model::LlamaModel& m, const std::map<std::string, quant::QuantSpec>& allocation) {
  std::vector<std::string> site, format, layout, fused;
  std::vector<int64_t> k, k_padded, bytes;
  int64_t total_bytes = 0, fused_count = 0;
  for (int64_t layer = 0; layer < m.config().num_layers; ++layer)
    for (model::LinearKind kind : model::all_linear_kinds()) {
      const std::string weight_site = model::site_name(layer, model::weight_site(kind));
      const quant::QuantSpec& spec = allocation.at(weight_site);
      if (!spec.enabled()) continue;  // an fp linear runs as it is
      auto& linear = m.weights().layers[size_t(layer)].linear(kind);
      auto held = std::dynamic_pointer_cast<const packed::PackedLinearKernel>(linear.packed);
      if (!held) {
        const std::string why = packed::weight_packing_problem(spec, linear.weight.size(0), linear.weight.size(1));
        throw Error(cat("quant.execution: packed: ", weight_site, " (", quant::describe(spec, "w"), ") holds no packed "
                        "weight: ", why.empty() ? "its weight quantizer kept no integer codes" : why));
      }
      const model::SiteKind input = model::input_site(kind);
      const quant::QuantSpec& act = allocation.at(model::site_name(layer, input));
      auto run = packed::make_packed_linear(held->weight(), act);
      if (run->activations().enabled()) {
        m.set_activation_hook(layer, input, model::ActivationHook{});  // the kernel call quantizes it now
        ++fused_count;
      }
      linear.packed = run;
      linear.weight = torch::Tensor();
      site.push_back(weight_site);
      format.push_back(packed::describe(run->weight().format));
      layout.push_back(abq_path_name(run->weight().layout));
      fused.push_back(run->activations().enabled() ? quant::describe(run->activations(), "a") : "");
      k.push_back(run->weight().k);
      k_padded.push_back(run->weight().k_padded);
      bytes.push_back(run->resident_bytes());
      total_bytes += bytes.back();
    }
  m.check_weights();
  if (!site.empty())
    log_info("packed execution: ", site.size(), " linears (", total_bytes, " bytes of codes, scales and zero-points), ",
             fused_count, " activation quantizers fused");
  store::Table t;
  t.add_strings("site", site).add_strings("format", format).add_strings("layout", layout);
  t.add_i64("k", k).add_i64("k_padded", k_padded).add_strings("fused_activation", fused).add_i64("bytes", bytes);
  return t;
}

void drop_fused_activation_hooks(model::LlamaModel& m) {
  for (int64_t layer = 0; layer < m.config().num_layers; ++layer)
    for (model::LinearKind kind : model::all_linear_kinds()) {
      const auto& linear = m.weights().layers[size_t(layer)].linear(kind);
      const auto* run = dynamic_cast<const packed::PackedLinearKernel*>(linear.packed.get());
      if (!linear.weight.defined() && run && run->activations().enabled())
        m.set_activation_hook(layer, model::input_site(kind), model::ActivationHook{});
    }
}

}  // namespace abq::pipeline

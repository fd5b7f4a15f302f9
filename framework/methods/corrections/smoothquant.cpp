#include "framework/methods/corrections/smoothquant.h"

#include "framework/core/error.h"

namespace abq::methods {

namespace {
constexpr double kMinScale = 1e-5;  // smooth.py clamps both max|W| and s at 1e-5
}

torch::Tensor smoothquant_scales(const torch::Tensor& act_absmax, const std::vector<torch::Tensor>& weights,
                                 double alpha) {
  ABQ_ASSERT(!weights.empty(), "smoothquant_scales needs at least one weight");
  std::vector<torch::Tensor> column_max;
  for (const auto& w : weights) {
    ABQ_ASSERT(w.dim() == 2 && w.size(1) == act_absmax.numel(), "weight [out, C] with C=", act_absmax.numel());
    column_max.push_back(w.detach().abs().amax(0).to(act_absmax.device(), torch::kFloat32));  // [C]
  }
  auto weight_max = torch::stack(column_max).amax(0).clamp_min(kMinScale);                  // [C]
  auto act = act_absmax.detach().to(torch::kFloat32);
  return (act.pow(alpha) / weight_max.pow(1.0 - alpha)).clamp_min(kMinScale);
}

void fold_smoothing_scales(torch::Tensor& norm_weight, const std::vector<model::Linear*>& linears,
                           const torch::Tensor& s) {
  torch::NoGradGuard no_grad;
  auto s_w = s.to(norm_weight.device(), norm_weight.scalar_type());
  norm_weight = norm_weight / s_w;
  for (model::Linear* linear : linears) {
    auto s_l = s.to(linear->weight.device(), linear->weight.scalar_type());
    linear->weight = linear->weight * s_l.unsqueeze(0);  // [out, C] · [1, C]: column j scaled by s_j
  }
}

SmoothQuant::SmoothQuant(SmoothQuantOptions options) : options_(options) {
  if (!(options_.alpha >= 0.0 && options_.alpha <= 1.0))
    throw Error(cat("smoothquant: alpha must be in [0, 1], got ", options_.alpha));
}

void SmoothQuant::run(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration_tokens,
                      const WeightSpecs& /*weight_specs*/) {
  using model::LinearKind;
  using model::NormKind;
  std::map<std::string, torch::Tensor> act;
  try {
    act = cached_input_absmax(model, calibration_tokens, cache());
  } catch (Error& e) {
    e.with_context("while calibrating smoothquant");
    throw;
  }
  scales_.clear();
  const double alpha = options_.alpha;
  for (int64_t layer = 0; layer < model.config().num_layers; ++layer) {
    auto& block = model.weights().layers[static_cast<size_t>(layer)];
    // q, k and v read the same normalised input, so q_proj's statistics stand for all three (smooth.py).
    const auto& attn_act = act.at(model::site_name(layer, model::input_site(LinearKind::q_proj)));
    auto s_attn = smoothquant_scales(attn_act, {block.q_proj.weight, block.k_proj.weight, block.v_proj.weight}, alpha);
    fold_smoothing_scales(block.input_norm, {&block.q_proj, &block.k_proj, &block.v_proj}, s_attn);
    scales_[model::norm_weight_name(layer, NormKind::input_layernorm)] = s_attn;

    const auto& mlp_act = act.at(model::site_name(layer, model::input_site(LinearKind::gate_proj)));
    auto s_mlp = smoothquant_scales(mlp_act, {block.gate_proj.weight, block.up_proj.weight}, alpha);
    fold_smoothing_scales(block.post_attention_norm, {&block.gate_proj, &block.up_proj}, s_mlp);
    scales_[model::norm_weight_name(layer, NormKind::post_attention_layernorm)] = s_mlp;
  }
  model.check_weights();
}

const config::OptionSet<SmoothQuantOptions>& smoothquant_options() {
  static const auto set = config::OptionSet<SmoothQuantOptions>().field(
      "alpha", &SmoothQuantOptions::alpha,
      config::Schema::number().range(0.0, 1.0).doc("migration strength: s_j = max|X_j|^alpha / max|W_j|^(1-alpha)"));
  return set;
}

}  // namespace abq::methods

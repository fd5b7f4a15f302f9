#include "framework/calib/sensitivity.h"

#include "framework/calib/hessian.h"
#include "framework/calib/stream_ops.h"
#include "framework/core/error.h"
#include "framework/quant/fake_quant.h"

namespace abq::calib {
namespace {

// Clears the model's activation hooks for a measurement and puts them back after, also on a throw.
class HooksCleared {
 public:
  explicit HooksCleared(model::LlamaModel& model) : model_(model), saved_(model.activation_hooks()) {
    model_.clear_activation_hooks();
  }
  ~HooksCleared() { model_.set_activation_hooks(saved_); }

 private:
  model::LlamaModel& model_;
  std::vector<model::LayerHooks> saved_;
};

std::string cache_key(const std::string& site, const quant::QuantSpec& spec) {
  return site + " " + quant::describe(spec);
}

// Mean over tokens of Σ_v p_fp·(log p_fp - log p_q), in float64.
double kl_sum(const torch::Tensor& fp_logits, const torch::Tensor& q_logits) {
  auto lp = torch::log_softmax(fp_logits.to(torch::kFloat64), -1);
  auto lq = torch::log_softmax(q_logits.to(torch::kFloat64), -1);
  return (lp.exp() * (lp - lq)).sum().item<double>();
}

}  // namespace

CalibrationSensitivity::CalibrationSensitivity(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration)
    : model_(model), calibration_(calibration) {
  check_calibration(calibration);
}

const std::vector<torch::Tensor>& CalibrationSensitivity::block_inputs(int64_t layer) {
  torch::NoGradGuard no_grad;
  if (layer < inputs_layer_ || inputs_layer_ < 0) {
    inputs_.clear();
    for (const auto& w : calibration_) inputs_.push_back(model_.embed(w.to(model_.device())));
    inputs_layer_ = 0;
  }
  HooksCleared cleared(model_);
  for (; inputs_layer_ < layer; ++inputs_layer_)
    for (auto& x : inputs_) x = model_.block_forward(inputs_layer_, x);
  return inputs_;
}

const std::vector<torch::Tensor>& CalibrationSensitivity::block_outputs(int64_t layer) {
  if (outputs_layer_ == layer) return outputs_;
  torch::NoGradGuard no_grad;
  const auto& xs = block_inputs(layer);
  HooksCleared cleared(model_);
  outputs_.clear();
  for (const auto& x : xs) outputs_.push_back(model_.block_forward(layer, x));
  outputs_layer_ = layer;
  return outputs_;
}

torch::Tensor CalibrationSensitivity::input_hessian(const std::string& weight_site) {
  const auto ref = model::require_site(weight_site, model_.config());
  if (!model::is_weight(ref.kind))
    throw Error(cat("input_hessian: '", weight_site, "' is not a weight site (layers.{i}.{linear}.weight)"));
  const auto input = model::input_site(model::linear_of(ref.kind));
  const auto key = std::make_pair(ref.layer, int(input));
  if (auto it = hessians_.find(key); it != hessians_.end()) return it->second;
  torch::NoGradGuard no_grad;
  const auto& xs = block_inputs(ref.layer);
  HessianAccumulator acc;
  {
    HooksCleared cleared(model_);
    model_.set_activation_hook(ref.layer, input, [&acc](const torch::Tensor& x) {
      acc.add(x);
      return x;
    });
    for (const auto& x : xs) model_.block_forward(ref.layer, x);
  }
  return hessians_[key] = acc.hessian();
}

template <typename Measure>
auto CalibrationSensitivity::with_site_quantized(const model::SiteRef& site, const quant::QuantSpec& spec,
                                                 Measure measure) {
  torch::NoGradGuard no_grad;
  HooksCleared cleared(model_);
  if (model::is_weight(site.kind)) {
    auto& linear = model_.weights().layers[size_t(site.layer)].linear(model::linear_of(site.kind));
    const torch::Tensor original = linear.weight;
    linear.weight = quant::fake_quant(original.to(torch::kFloat32), spec).fake.to(original.scalar_type());
    struct Restore {
      model::Linear& l;
      torch::Tensor w;
      ~Restore() { l.weight = w; }
    } restore{linear, original};
    return measure();
  }
  if (!spec.dynamic) {  // static ranges: observe on the same windows first
    auto observer = std::make_shared<quant::RangeObserver>(spec);
    model_.set_activation_hook(site.layer, site.kind, [observer](const torch::Tensor& x) {
      observer->observe(x);
      return x;
    });
    for (const auto& x : block_inputs(site.layer)) model_.block_forward(site.layer, x);
    model_.set_activation_hook(site.layer, site.kind,
                               [observer](const torch::Tensor& x) { return observer->quantize(x).fake; });
  } else {
    model_.set_activation_hook(site.layer, site.kind,
                               [spec](const torch::Tensor& x) { return quant::fake_quant(x, spec).fake; });
  }
  return measure();
}

double CalibrationSensitivity::block_output_mse(const std::string& site, const quant::QuantSpec& spec) {
  const auto key = cache_key(site, spec);
  if (auto it = mse_.find(key); it != mse_.end()) return it->second;
  const auto ref = model::require_site(site, model_.config());
  const auto& reference = block_outputs(ref.layer);
  const auto& xs = block_inputs(ref.layer);
  const double mse = with_site_quantized(ref, spec, [&] {
    std::vector<torch::Tensor> ys;
    for (const auto& x : xs) ys.push_back(model_.block_forward(ref.layer, x));
    return mean_squared_error(ys, reference);
  });
  return mse_[key] = mse;
}

double CalibrationSensitivity::output_kl(const std::string& site, const quant::QuantSpec& spec) {
  const auto key = cache_key(site, spec);
  if (auto it = kl_.find(key); it != kl_.end()) return it->second;
  const auto ref = model::require_site(site, model_.config());
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> fp_logits;
  {
    HooksCleared cleared(model_);
    for (const auto& w : calibration_) fp_logits.push_back(model_.forward(w.to(model_.device())));
  }
  double sum = 0;
  int64_t tokens = 0;
  with_site_quantized(ref, spec, [&] {
    for (size_t i = 0; i < calibration_.size(); ++i) {
      sum += kl_sum(fp_logits[i], model_.forward(calibration_[i].to(model_.device())));
      tokens += calibration_[i].numel();
    }
    return 0;
  });
  return kl_[key] = sum / double(tokens);
}

}  // namespace abq::calib

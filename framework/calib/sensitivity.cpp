#include "framework/calib/sensitivity.h"

#include <algorithm>

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

size_t CalibrationSensitivity::window_count(size_t windows) const {
  return windows == 0 ? calibration_.size() : std::min(windows, calibration_.size());
}

template <typename Measure>
auto CalibrationSensitivity::with_sites_quantized(const methods::SiteSpecs& sites, size_t windows, Measure measure) {
  torch::NoGradGuard no_grad;
  HooksCleared cleared(model_);
  struct Restore {
    model::Linear* l;
    torch::Tensor w;
  };
  struct RestoreAll {
    std::vector<Restore> saved;
    ~RestoreAll() {
      for (auto it = saved.rbegin(); it != saved.rend(); ++it) it->l->weight = it->w;
    }
  } restore;
  std::vector<std::pair<model::SiteRef, std::shared_ptr<quant::RangeObserver>>> observers;
  for (const auto& [name, spec] : sites) {
    const auto site = model::require_site(name, model_.config());
    if (model::is_weight(site.kind)) {
      auto& linear = model_.weights().layers[size_t(site.layer)].linear(model::linear_of(site.kind));
      restore.saved.push_back({&linear, linear.weight});
      linear.weight = quant::fake_quant(linear.weight.to(torch::kFloat32), spec).fake.to(linear.weight.scalar_type());
    } else if (!spec.dynamic) {  // static ranges: observed on the same windows first
      auto observer = std::make_shared<quant::RangeObserver>(spec);
      observers.emplace_back(site, observer);
    } else {
      model_.set_activation_hook(site.layer, site.kind,
                                 [spec = spec](const torch::Tensor& x) { return quant::fake_quant(x, spec).fake; });
    }
  }
  for (const auto& [site, observer] : observers) {
    model_.set_activation_hook(site.layer, site.kind, [observer = observer](const torch::Tensor& x) {
      observer->observe(x);
      return x;
    });
    const auto& xs = block_inputs(site.layer);
    for (size_t i = 0; i < window_count(windows); ++i) model_.block_forward(site.layer, xs[i]);
    model_.set_activation_hook(site.layer, site.kind,
                               [observer = observer](const torch::Tensor& x) { return observer->quantize(x).fake; });
  }
  return measure();
}

namespace {

std::string cache_key(const methods::SiteSpecs& sites, size_t windows) {
  std::string key = std::to_string(windows);
  for (const auto& [site, spec] : sites) key += " " + site + "=" + quant::describe(spec);
  return key;
}

int64_t single_layer(const methods::SiteSpecs& sites, const model::LlamaConfig& config) {
  if (sites.empty()) throw Error("block_output_mse: no site to quantize");
  const int64_t layer = model::require_site(sites.front().first, config).layer;
  for (const auto& [name, spec] : sites)
    if (model::require_site(name, config).layer != layer)
      throw Error(cat("block_output_mse: sites of one block only; ", sites.front().first, " and ", name, " differ"));
  return layer;
}

}  // namespace

double CalibrationSensitivity::block_output_mse(const methods::SiteSpecs& sites, size_t windows) {
  const auto key = cache_key(sites, window_count(windows));
  if (auto it = mse_.find(key); it != mse_.end()) return it->second;
  const int64_t layer = single_layer(sites, model_.config());
  const size_t n = window_count(windows);
  const auto& outputs = block_outputs(layer);
  const std::vector<torch::Tensor> reference(outputs.begin(), outputs.begin() + long(n));
  const double mse = with_sites_quantized(sites, windows, [&] {
    const auto& xs = block_inputs(layer);
    std::vector<torch::Tensor> ys;
    for (size_t i = 0; i < n; ++i) ys.push_back(model_.block_forward(layer, xs[i]));
    return mean_squared_error(ys, reference);
  });
  return mse_[key] = mse;
}

double CalibrationSensitivity::output_kl(const methods::SiteSpecs& sites, size_t windows) {
  const size_t n = window_count(windows);
  const auto key = cache_key(sites, n);
  if (auto it = kl_.find(key); it != kl_.end()) return it->second;
  for (const auto& [name, spec] : sites) model::require_site(name, model_.config());
  torch::NoGradGuard no_grad;
  if (fp_logits_windows_ != n) {
    HooksCleared cleared(model_);
    fp_logits_.clear();
    for (size_t i = 0; i < n; ++i) fp_logits_.push_back(model_.forward(calibration_[i].to(model_.device())));
    fp_logits_windows_ = n;
  }
  // Blocks before the first quantized one compute what the fp model computes: start from its
  // (cached) fp inputs, taken before any site is quantized.
  int64_t first_layer = model_.config().num_layers;
  for (const auto& [name, spec] : sites) first_layer = std::min(first_layer, model::require_site(name, model_.config()).layer);
  const std::vector<torch::Tensor> inputs = block_inputs(first_layer);
  double sum = 0;
  int64_t tokens = 0;
  with_sites_quantized(sites, windows, [&] {
    for (size_t i = 0; i < n; ++i) {
      sum += kl_sum(fp_logits_[i], model_.forward_from_block(first_layer, inputs[i]));
      tokens += calibration_[i].numel();
    }
    return 0;
  });
  return kl_[key] = sum / double(tokens);
}

torch::Tensor CalibrationSensitivity::weight_fisher(const std::string& weight_site, size_t windows) {
  const auto ref = model::require_site(weight_site, model_.config());
  if (!model::is_weight(ref.kind))
    throw Error(cat("weight_fisher: '", weight_site, "' is not a weight site (layers.{i}.{linear}.weight)"));
  const size_t n = window_count(windows);
  if (fisher_windows_ == n) return fisher_.at(weight_site);
  if (model_.streamed())
    throw Error("weight_fisher: a streamed model keeps no blocks in memory to take gradients of; load it whole");
  fisher_.clear();
  HooksCleared cleared(model_);
  std::vector<std::string> names;
  std::vector<torch::Tensor> weights;
  for (int64_t layer = 0; layer < model_.config().num_layers; ++layer)
    for (model::LinearKind kind : model::all_linear_kinds()) {
      auto& linear = model_.weights().layers[size_t(layer)].linear(kind);
      names.push_back(model::site_name(layer, model::weight_site(kind)));
      weights.push_back(linear.weight);
    }
  struct NoGradAfter {
    std::vector<torch::Tensor>& w;
    ~NoGradAfter() {
      for (auto& t : w) t.requires_grad_(false);
    }
  } after{weights};
  for (auto& w : weights) w.requires_grad_(true);
  std::vector<torch::Tensor> sums(weights.size());
  torch::AutoGradMode grad_mode(true);
  for (size_t i = 0; i < n; ++i) {
    const torch::Tensor tokens = calibration_[i].to(model_.device());
    const torch::Tensor logits = model_.forward(tokens);  // [1, T, V]
    const int64_t t = logits.size(1);
    const torch::Tensor loss = torch::nn::functional::cross_entropy(
        logits.slice(1, 0, t - 1).reshape({t - 1, -1}).to(torch::kFloat32), tokens.slice(1, 1, t).reshape({t - 1}));
    const auto grads = torch::autograd::grad({loss}, weights);
    for (size_t k = 0; k < weights.size(); ++k) {
      const torch::Tensor g2 = grads[k].detach().to(torch::kFloat32).square();
      sums[k] = sums[k].defined() ? sums[k] + g2 : g2;
    }
  }
  for (size_t k = 0; k < weights.size(); ++k) fisher_[names[k]] = sums[k] / double(n);
  fisher_windows_ = n;
  return fisher_.at(weight_site);
}

}  // namespace abq::calib

#include "framework/methods/corrections/awq.h"

#include <cmath>
#include <limits>

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/methods/corrections/smoothquant.h"
#include "framework/model/attention.h"
#include "framework/model/mlp.h"

namespace abq::methods {
namespace {

using model::Linear;
using model::SiteKind;

// Inputs of one linear over all windows: [B, T, in] per window.
using Windows = std::vector<torch::Tensor>;

Linear with_weight(const Linear& l, const torch::Tensor& w) { return {w, l.bias}; }

torch::Tensor cat_outputs(const Windows& xs, const std::function<torch::Tensor(const torch::Tensor&)>& f) {
  std::vector<torch::Tensor> ys;
  for (const auto& x : xs) {
    auto y = f(x);  // [B, T, out]
    ys.push_back(y.reshape({-1, y.size(-1)}));
  }
  return torch::cat(ys);
}

torch::Tensor flat_tokens(const Windows& xs) {
  std::vector<torch::Tensor> flat;
  for (const auto& x : xs) flat.push_back(x.reshape({-1, x.size(-1)}));
  return torch::cat(flat);  // [N, in]
}

// scale_fc_fc: the first linear's output rows ÷ s (its bias too), the second's input columns × s.
void fold_fc_fc(Linear& first, Linear& second, const torch::Tensor& s) {
  auto rows = s.to(first.weight.scalar_type());
  first.weight = first.weight / rows.unsqueeze(1);
  if (first.bias.defined()) first.bias = first.bias / rows;
  second.weight = second.weight * s.to(second.weight.scalar_type()).unsqueeze(0);
}

}  // namespace

AwqWeightGrid AwqWeightGrid::of(const quant::QuantSpec& spec) {
  AwqWeightGrid g;
  g.quantized = spec.enabled();
  if (!g.quantized) return g;
  g.levels = spec.levels();
  g.zero_point = !spec.symmetric;
  switch (spec.granularity) {
    case quant::Granularity::per_channel: g.group_size = 0; break;
    case quant::Granularity::per_group: g.group_size = spec.group_size; break;
    case quant::Granularity::per_tensor: g.group_size = -1; break;
    default:
      throw Error(cat("awq: a weight grid is per_channel, per_group or per_tensor, got ", quant::to_string(spec.granularity)));
  }
  return g;
}

torch::Tensor awq_pseudo_quantize(const torch::Tensor& w, const AwqWeightGrid& grid) {
  if (!grid.quantized) return w;
  const auto shape = w.sizes().vec();
  auto g = grid.group_size > 0    ? w.reshape({-1, grid.group_size})  // one row per group
           : grid.group_size == 0 ? w.reshape({w.size(0), -1})
                                  : w.reshape({1, -1});
  torch::Tensor q;
  if (grid.zero_point) {
    const double max_int = double(grid.levels - 1);
    auto max_val = std::get<0>(g.max(1, /*keepdim=*/true));
    auto min_val = std::get<0>(g.min(1, /*keepdim=*/true));
    auto scales = (max_val - min_val).clamp_min(1e-5) / max_int;
    auto zeros = (-torch::round(min_val / scales)).clamp(0, max_int);
    q = (torch::clamp(torch::round(g / scales) + zeros, 0, max_int) - zeros) * scales;
  } else {
    const double max_int = double(grid.levels / 2 - 1), min_int = -double(grid.levels / 2);
    auto scales = std::get<0>(g.abs().max(1, /*keepdim=*/true)).clamp_min(1e-5) / max_int;
    q = torch::clamp(torch::round(g / scales), min_int, max_int) * scales;
  }
  return q.reshape(shape);
}

AwqScaleSearch awq_search_scales(const torch::Tensor& x, const std::vector<torch::Tensor>& weights,
                                 const std::vector<AwqWeightGrid>& grids, const AwqOptions& options,
                                 const AwqInspect& inspect) {
  if (grids.size() != weights.size())
    throw std::logic_error("awq_search_scales: one grid per weight");
  torch::NoGradGuard no_grad;
  const auto reference = inspect(weights).to(torch::kFloat64);
  const auto x_mean = x.abs().reshape({-1, x.size(-1)}).mean(0);  // [in], get_act_scale
  AwqScaleSearch best;
  double best_loss = std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < options.grid; ++k) {
    const double ratio = double(k) / double(options.grid);
    auto s = x_mean.pow(ratio).clamp_min(1e-4);
    s = s / (s.max() * s.min()).sqrt();  // [in]
    std::vector<torch::Tensor> scaled;
    for (size_t i = 0; i < weights.size(); ++i) {
      auto sw = s.to(weights[i].scalar_type()).unsqueeze(0);
      scaled.push_back(awq_pseudo_quantize(weights[i] * sw, grids[i]) / sw);
    }
    const double loss = (reference - inspect(scaled).to(torch::kFloat64)).square().mean().item<double>();
    best.losses.push_back(loss);
    if (loss < best_loss) {
      best_loss = loss;
      best.ratio = ratio;
      best.scales = s;
    }
  }
  if (!best.scales.defined())
    throw Error(cat("awq scale search found no ratio with a finite output error (losses start ", best.losses.front(), ")"));
  return best;
}

Awq::Awq(AwqOptions options) : options_(options) {
  if (options_.grid < 1) throw Error(cat("awq grid must be >= 1, got ", options_.grid));
}

void Awq::run(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration_tokens,
              const WeightSpecs& weight_specs) {
  if (calibration_tokens.empty()) throw Error("awq needs calibration windows; got none");
  if (!weight_specs) throw Error("awq searches on the experiment's weight grid: no weight specs given");
  torch::NoGradGuard no_grad;
  searches_.clear();
  const auto saved_hooks = model.activation_hooks();
  model.clear_activation_hooks();
  const auto dims = model.attention_dims();
  const auto& config = model.config();

  Windows inps;  // block inputs, fp chain [B, T, C]
  for (const auto& t : calibration_tokens) inps.push_back(model.embed(t.to(model.device())));

  try {
    for (int64_t layer = 0; layer < config.num_layers; ++layer) {
      auto& block = model.weights().layers[size_t(layer)];
      const auto grid = [&](model::LinearKind kind) {
        const std::string site = model::site_name(layer, model::weight_site(kind));
        const auto g = AwqWeightGrid::of(weight_specs(site));
        const int64_t in = block.linear(kind).weight.size(1);
        if (g.quantized && g.group_size > 0 && in % g.group_size != 0)
          throw Error(cat("awq: group_size ", g.group_size, " does not divide the input size ", in, " of ", site));
        return g;
      };
      using model::LinearKind;
      const std::vector<AwqWeightGrid> qkv_grids = {grid(LinearKind::q_proj), grid(LinearKind::k_proj),
                                                    grid(LinearKind::v_proj)};
      const std::vector<AwqWeightGrid> o_grid = {grid(LinearKind::o_proj)};
      const std::vector<AwqWeightGrid> mlp_grids = {grid(LinearKind::gate_proj), grid(LinearKind::up_proj)};
      const std::vector<AwqWeightGrid> down_grid = {grid(LinearKind::down_proj)};

      // Inputs of the linears on the unscaled fp block, and the next block's inputs.
      std::map<SiteKind, Windows> feat;
      for (SiteKind site : {SiteKind::q_proj_input, SiteKind::o_proj_input, SiteKind::gate_proj_input,
                            SiteKind::down_proj_input})
        model.set_activation_hook(layer, site, [f = &feat[site]](const torch::Tensor& x) {
          f->push_back(x);
          return x;
        });
      Windows next;
      for (const auto& x : inps) next.push_back(model.block_forward(layer, x));
      model.clear_activation_hooks();

      // The four searches, all on the unscaled block.
      const auto& q_in = feat[SiteKind::q_proj_input];
      auto qkv = awq_search_scales(
          flat_tokens(q_in), {block.q_proj.weight, block.k_proj.weight, block.v_proj.weight}, qkv_grids, options_,
          [&](const std::vector<torch::Tensor>& w) {
            return cat_outputs(q_in, [&](const torch::Tensor& x) {
              const auto rope = model.rope(x.size(1), x.device(), x.scalar_type());
              return model::attention_forward(x, with_weight(block.q_proj, w[0]), with_weight(block.k_proj, w[1]),
                                              with_weight(block.v_proj, w[2]), block.o_proj, dims, rope);
            });
          });
      const bool v_to_o = block.v_proj.weight.sizes() == block.o_proj.weight.sizes();
      AwqScaleSearch vo;
      if (v_to_o) {
        const auto& o_in = feat[SiteKind::o_proj_input];
        vo = awq_search_scales(flat_tokens(o_in), {block.o_proj.weight}, o_grid, options_, [&](const std::vector<torch::Tensor>& w) {
          return cat_outputs(o_in, [&](const torch::Tensor& x) { return model::linear_forward(x, with_weight(block.o_proj, w[0])); });
        });
      }
      const auto& gate_in = feat[SiteKind::gate_proj_input];
      auto mlp = awq_search_scales(
          flat_tokens(gate_in), {block.gate_proj.weight, block.up_proj.weight}, mlp_grids, options_,
          [&](const std::vector<torch::Tensor>& w) {
            return cat_outputs(gate_in, [&](const torch::Tensor& x) {
              return model::mlp_forward(x, with_weight(block.gate_proj, w[0]), with_weight(block.up_proj, w[1]),
                                        block.down_proj);
            });
          });
      const auto& down_in = feat[SiteKind::down_proj_input];
      auto down = awq_search_scales(flat_tokens(down_in), {block.down_proj.weight}, down_grid, options_,
                                    [&](const std::vector<torch::Tensor>& w) {
                                      return cat_outputs(down_in, [&](const torch::Tensor& x) {
                                        return model::linear_forward(x, with_weight(block.down_proj, w[0]));
                                      });
                                    });

      // Fold: previous op ÷ s, scaled linears × s (apply_scale).
      fold_smoothing_scales(block.input_norm, {&block.q_proj, &block.k_proj, &block.v_proj}, qkv.scales);
      if (v_to_o) fold_fc_fc(block.v_proj, block.o_proj, vo.scales);
      fold_smoothing_scales(block.post_attention_norm, {&block.gate_proj, &block.up_proj}, mlp.scales);
      fold_fc_fc(block.up_proj, block.down_proj, down.scales);
      searches_[model::norm_weight_name(layer, model::NormKind::input_layernorm)] = qkv;
      if (v_to_o) searches_[model::site_name(layer, SiteKind::v_proj_weight)] = vo;
      searches_[model::norm_weight_name(layer, model::NormKind::post_attention_layernorm)] = mlp;
      searches_[model::site_name(layer, SiteKind::up_proj_weight)] = down;
      log_debug("awq: block ", layer, " ratios qkv ", qkv.ratio, ", vo ", v_to_o ? vo.ratio : NAN, ", mlp ", mlp.ratio,
                ", down ", down.ratio);
      inps = std::move(next);
    }
  } catch (Error& e) {
    model.set_activation_hooks(saved_hooks);
    e.with_context("while applying awq");
    throw;
  } catch (...) {
    model.set_activation_hooks(saved_hooks);
    throw;
  }
  model.set_activation_hooks(saved_hooks);
  model.check_weights();
}

// The search quantizes each linear on the experiment's weight grid (quant.weights and per-site
// overrides), so the correction has no bits or group size of its own.
const config::OptionSet<AwqOptions>& awq_options() {
  static const auto set = config::OptionSet<AwqOptions>().field(
      "grid", &AwqOptions::grid, config::Schema::integer().range(1, 1000).doc("ratios tried, r = k/grid"));
  return set;
}

}  // namespace abq::methods

// Allocation: the plugin interface for bit allocations — which QuantSpec every named site of a
// model gets (uniform, sensitivity-driven mixed precision, a budget solver, ...). An allocation
// reads its context (sites with shapes and roles, the experiment's default specs, the model, the
// calibration windows, and a sensitivity service that measures what quantizing one site costs) and
// returns a plan for every site. Per-site overrides and `skip` are a separate pass applied after
// any allocation (allocations/site_overrides.h). Implementations live in methods/allocations/.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "framework/model/llama_model.h"
#include "framework/model/site_names.h"
#include "framework/quant/quant_spec.h"

namespace abq::methods {

/// What a site is, for choosing among the default specs.
enum class SiteRole { weight, activation, kv };
const char* to_string(SiteRole role);

/// One quantization site as an allocation sees it.
struct SiteInfo {
  std::string name;    // full site name, e.g. layers.3.mlp.down_proj.weight
  std::string module;  // the name without its role suffix, e.g. layers.3.mlp.down_proj (q/k/v: the name)
  SiteRole role = SiteRole::weight;
  int64_t layer = 0;
  model::SiteKind kind = model::SiteKind::q_proj_weight;
  // Weights: the linear's [out_features, in_features]. Linear inputs: in_features channels,
  // out_features 0. Attention q/k/v: heads (out_features) x head_dim (in_features).
  int64_t out_features = 0;
  int64_t in_features = 0;
};

/// The experiment's default spec per role (quant.weights, quant.activations, quant.kv).
struct DefaultSpecs {
  quant::QuantSpec weights;
  quant::QuantSpec activations;
  quant::QuantSpec kv;
  const quant::QuantSpec& for_role(SiteRole role) const;
};

/// Site name -> spec, for every site (bits 16 = not quantized).
using SitePlan = std::map<std::string, quant::QuantSpec>;

/// Sites quantized together for one measurement, each with its spec.
using SiteSpecs = std::vector<std::pair<std::string, quant::QuantSpec>>;

/// Measurements an allocation may ask for, run on the calibration windows with the model as it is
/// when allocation runs (as loaded: before corrections, which search on the plan's weight grid,
/// and before quantization). Implemented by calib/ (calib/sensitivity.h); results are cached, so
/// asking twice costs nothing. `windows` limits a measurement to the first windows (0: all).
class SensitivityService {
 public:
  virtual ~SensitivityService() = default;
  /// H = 2/N·Σ xᵀx of a weight site's input on the fp chain, [in, in] float32 (calib/hessian.h).
  virtual torch::Tensor input_hessian(const std::string& weight_site) = 0;
  /// Empirical Fisher diagonal of a weight: the mean over windows of (∂L/∂W)², L the window's mean
  /// next-token cross-entropy of the fp model; [out, in] float32. One backward pass per window,
  /// shared by every weight.
  virtual torch::Tensor weight_fisher(const std::string& weight_site, size_t windows = 0) = 0;
  /// Mean squared error of the block output when only `sites` (weights or activation sites of one
  /// block) are quantized and the rest of the block stays fp, on the fp chain's block inputs.
  virtual double block_output_mse(const SiteSpecs& sites, size_t windows = 0) = 0;
  /// Mean per-token KL(p_fp || p_q) of the next-token distribution over the calibration windows
  /// when only `sites` are quantized.
  virtual double output_kl(const SiteSpecs& sites, size_t windows = 0) = 0;

  double block_output_mse(const std::string& site, const quant::QuantSpec& spec) {
    return block_output_mse(SiteSpecs{{site, spec}});
  }
  double output_kl(const std::string& site, const quant::QuantSpec& spec) { return output_kl(SiteSpecs{{site, spec}}); }
};

/// Modelled time in microseconds of one linear [out, in] on `tokens` rows with its weight and input
/// specs (the kernels' roofline model); negative when the kernels cannot run the formats.
using LatencyModel = std::function<double(const quant::QuantSpec& weights, const quant::QuantSpec& inputs,
                                          int64_t out_features, int64_t in_features, int64_t tokens)>;

/// What a measuring allocation found and chose, stored with the run (pipeline/quantize_model.h).
struct AllocationRecord {
  struct Row {
    std::string group;      // a site group (site_groups.h)
    std::string sites;      // its weight sites, comma-separated
    std::string candidate;  // the candidate's label
    double storage_bits = 0;
    double latency_us = -1;
    double score = 0;
    bool chosen = false;
  };
  std::vector<Row> rows;                               // group x candidate
  std::vector<std::pair<double, double>> pareto;       // budget (in its unit) -> predicted loss
  std::map<std::string, std::string> attributes;       // measure, solver, budget, cache key, ...
  std::map<std::string, double> numbers;               // predicted_loss, measure_seconds, solve_seconds, ...
};

struct AllocationContext {
  const std::vector<SiteInfo>& sites;             // every site, layer by layer in table order
  const DefaultSpecs& defaults;
  const model::LlamaModel& model;                 // read-only
  const std::vector<torch::Tensor>& calibration;  // token windows [B, T]; may be empty
  SensitivityService* sensitivity = nullptr;      // null when there is no calibration data
  std::string model_digest;                       // sha256 of the model files ("" if none): cache keys
  std::string cache_dir;                          // where measurements persist ("" = not on disk)
  LatencyModel latency;                           // empty when no latency model is wired in
  AllocationRecord* record = nullptr;             // filled by allocations that measure (may be null)

  /// The sensitivity service, or a ConfigError naming `allocation` when there is no calibration data.
  SensitivityService& require_sensitivity(const std::string& allocation) const;
};

class Allocation {
 public:
  virtual ~Allocation() = default;
  /// Registry name, e.g. "uniform".
  virtual std::string name() const = 0;
  /// A spec for every site of context.sites. Throws abq::Error (naming the allocation) when no
  /// plan satisfies its options.
  virtual SitePlan allocate(const AllocationContext& context) const = 0;
};

}  // namespace abq::methods

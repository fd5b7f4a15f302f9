#include "framework/pipeline/quantize_model.h"

#include <cmath>
#include <map>
#include <memory>

#include "framework/calib/block_calibrator.h"
#include "framework/calib/calibrate_blocks.h"
#include "framework/calib/sensitivity.h"
#include "framework/pipeline/cache_root.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/progress.h"
#include "framework/core/sha256.h"
#include "framework/methods/allocations/plan_summary.h"
#include "framework/methods/allocations/site_overrides.h"
#include "framework/methods/allocations/site_table.h"
#include "framework/methods/registry.h"
#include "framework/pipeline/stop_request.h"
#include "framework/packed/kernel_format.h"
#include "framework/packed/modelled_latency.h"
#include "framework/packed/packed_linear.h"
#include "framework/pipeline/gguf_export.h"
#include "framework/pipeline/packed_execution.h"
#include "framework/quant/error_metrics.h"
#include "framework/quant/fake_quant.h"
#include "framework/quant/storage_bits.h"

namespace abq::pipeline {
namespace {

using model::SiteKind;

// Logit drift tolerated from an output-preserving correction, relative to max |logit|. Float32
// re-association of the rescaled products stays far below it; a broken transform does not.
constexpr double kCorrectionTolerance = 1e-3;
// Calibration windows used to measure activation quantization error (a forward each).
constexpr size_t kActivationErrorWindows = 2;

// What a cached stage's result depends on of the model, for stage cache keys (stage_cache.h):
// `fp_state` digests the fp model as the next stage sees it (files, dtype, device, then every
// correction applied so far), `windows` the calibration tokens. No cache or no weights digest: off.
struct StageKeys {
  const StageCache* cache = nullptr;
  std::string fp_state;
  std::string windows;
  std::string stage_key_of() const { return fp_state.empty() ? "" : stage_key({fp_state, windows}); }
};

std::string windows_digest(const std::vector<torch::Tensor>& calibration) {
  Sha256 h;
  for (const auto& w : calibration) {
    const auto cpu = w.to(torch::kCPU, torch::kInt64).contiguous();  // [B, T]
    h.update(cat("window ", cpu.sizes(), "\n"));
    h.update(cpu.data_ptr(), size_t(cpu.numel()) * sizeof(int64_t));
  }
  return h.hex_digest();
}

// Results do not depend on the thread count: activation statistics and Y_fp were checked bitwise
// equal at --threads 1 and 2 (tests/integration/stage_cache_test.cpp), so it is not in the key.
StageKeys stage_keys(const model::LlamaModel& m, const std::vector<torch::Tensor>& calibration,
                     const std::string& weights_digest, const StageCache* cache) {
  StageKeys keys;
  if (!cache || !cache->enabled() || weights_digest.empty()) return keys;
  keys.cache = cache;
  keys.fp_state = stage_key({"fp model v1", weights_digest, c10::toString(m.dtype()), m.device().str()});
  keys.windows = windows_digest(calibration);
  return keys;
}

// The plan's weight grid, for the state after a correction that searched on it (AWQ).
std::string weight_plan_digest(const model::LlamaModel& m, const std::map<std::string, quant::QuantSpec>& allocation) {
  Sha256 h;
  for (int64_t layer = 0; layer < m.config().num_layers; ++layer)
    for (model::LinearKind kind : model::all_linear_kinds()) {
      const std::string site = model::site_name(layer, model::weight_site(kind));
      h.update(site + " " + quant::describe(allocation.at(site)) + "\n");
    }
  return h.hex_digest();
}

// A stage's use in the report: seconds add up, and it is a hit only when every use was one.
void record_stage(QuantizationReport& report, const std::string& stage, const StageUse& use) {
  auto [at, fresh] = report.stages.emplace(stage, use);
  if (fresh) return;
  at->second.seconds += use.seconds;
  if (at->second.outcome != use.outcome) at->second.outcome = "miss";
}

// The stored plan: one row per site.
store::Table plan_table(const methods::SitePlan& plan, const std::vector<methods::SiteInfo>& sites) {
  std::vector<std::string> site, role, granularity;
  std::vector<int64_t> bits, levels, group, symmetric, storage;
  for (const auto& info : sites) {
    const auto& spec = plan.at(info.name);
    site.push_back(info.name);
    role.push_back(methods::to_string(info.role));
    bits.push_back(spec.enabled() ? spec.bits : 16);
    levels.push_back(spec.enabled() ? spec.levels() : 0);
    granularity.push_back(spec.enabled() ? quant::to_string(spec.granularity) : "none");
    group.push_back(spec.enabled() && spec.granularity == quant::Granularity::per_group ? spec.group_size : 0);
    symmetric.push_back(spec.enabled() && spec.symmetric);
    storage.push_back(info.role == methods::SiteRole::weight
                          ? quant::weight_storage_bits(spec, info.out_features, info.in_features).total()
                          : 0);
  }
  store::Table t;
  t.add_strings("site", site).add_strings("role", role).add_i64("bits", bits).add_i64("levels", levels);
  t.add_strings("granularity", granularity).add_i64("group_size", group).add_i64("symmetric", symmetric);
  t.add_i64("storage_bits", storage);
  return t;
}

// The allocation's plan for every site, then the experiment's per-site overrides.
}  // namespace

methods::SitePlan plan_sites(model::LlamaModel& m, const QuantPlanSpec& plan, const std::vector<methods::SiteInfo>& sites,
                             const std::vector<torch::Tensor>& calibration, const std::string& weights_digest,
                             methods::AllocationRecord* record) {
  const methods::DefaultSpecs defaults{plan.weights, plan.activations, plan.kv};
  std::unique_ptr<calib::CalibrationSensitivity> sensitivity;
  if (!calibration.empty()) sensitivity = std::make_unique<calib::CalibrationSensitivity>(m, calibration);
  const methods::AllocationContext context{sites,          defaults,     m,  calibration, sensitivity.get(),
                                           weights_digest, cache_root(), packed::modelled_linear_time_us, record};
  auto allocation = methods::make_allocation(plan.allocation.type, plan.allocation.options);
  methods::SitePlan out = allocation->allocate(context);
  for (const auto& site : sites)
    if (!out.count(site.name))
      throw Error(cat("allocation '", allocation->name(), "' gave no spec for site ", site.name));
  methods::apply_site_overrides(out, sites, plan.overrides);
  return out;
}

namespace {

model::Linear& linear_at(model::LlamaModel& m, int64_t layer, model::LinearKind kind) {
  auto& b = m.weights().layers[size_t(layer)];
  switch (kind) {
    case model::LinearKind::q_proj: return b.q_proj;
    case model::LinearKind::k_proj: return b.k_proj;
    case model::LinearKind::v_proj: return b.v_proj;
    case model::LinearKind::o_proj: return b.o_proj;
    case model::LinearKind::gate_proj: return b.gate_proj;
    case model::LinearKind::up_proj: return b.up_proj;
    case model::LinearKind::down_proj: return b.down_proj;
  }
  throw std::logic_error("linear_at: unknown linear kind");
}

store::SiteRow site_row(const std::string& site, const quant::QuantSpec& spec, double mse, double sqnr) {
  store::SiteRow row;
  row.site = site;
  row.bits = spec.bits;
  row.granularity = quant::to_string(spec.granularity);
  row.group_size = spec.granularity == quant::Granularity::per_group ? spec.group_size : 0;
  row.levels = spec.levels();
  row.mse = mse;
  row.sqnr_db = sqnr;
  return row;
}

// Each correction may keep its statistics in the stage cache, keyed by the model state it saw;
// the state moves on by the correction's type and options (and the weight plan when it read it).
void apply_corrections(model::LlamaModel& m, const QuantPlanSpec& plan,
                       const std::map<std::string, quant::QuantSpec>& allocation,
                       const std::vector<torch::Tensor>& calibration, StageKeys& keys, QuantizationReport& report) {
  const methods::WeightSpecs weight_specs = [&](const std::string& site) { return allocation.at(site); };
  for (const auto& c : plan.corrections) {
    if (calibration.empty())
      throw ConfigError(cat("correction '", c.type, "' needs calibration data: set calibration.data"));
    auto correction = methods::make_correction(c.type, c.options);
    torch::NoGradGuard no_grad;
    auto probe = calibration.front();
    auto before = m.forward(probe).to(torch::kFloat64);
    methods::CorrectionCache cache{keys.cache, keys.stage_key_of(), {}};
    correction->apply(m, calibration, weight_specs, &cache);
    for (const auto& [stage, use] : cache.uses) record_stage(report, stage, use);
    if (!keys.fp_state.empty())
      keys.fp_state = stage_key({keys.fp_state, "after correction " + c.type, c.options.IsDefined() ? YAML::Dump(c.options) : "",
                                 correction->reads_weight_specs() ? weight_plan_digest(m, allocation) : ""});
    auto after = m.forward(probe).to(torch::kFloat64);
    double drift = ((after - before).abs().max() / before.abs().max()).item<double>();
    log_info("correction ", c.type, ": fp output drift ", drift, " (max |Δlogit| / max |logit|)");
    if (!(drift <= kCorrectionTolerance))
      throw Error(cat("correction '", c.type, "' changed the fp model output by ", drift,
                      " (relative), more than the ", kCorrectionTolerance,
                      " an output-preserving transform may; refusing to continue"));
    report.checks.push_back({"fp_output_drift", "calibration", "correction:" + c.type, drift, NAN,
                             int64_t(probe.numel())});
  }
}

// One row per calibrated block: time, errors, and (learned calibration) losses and restarts.
store::Table block_table(const std::vector<calib::BlockStats>& blocks) {
  std::vector<int64_t> block, restarts, skipped;
  std::vector<double> seconds, output_mse, local_mse, first_loss, final_loss;
  for (const auto& b : blocks) {
    block.push_back(b.block);
    seconds.push_back(b.seconds);
    output_mse.push_back(b.output_mse);
    local_mse.push_back(b.local_mse);
    first_loss.push_back(b.first_loss);
    final_loss.push_back(b.final_loss);
    restarts.push_back(b.restarts);
    skipped.push_back(b.skipped_steps);
  }
  store::Table t;
  t.add_i64("block", block).add_f64("seconds", seconds).add_f64("output_mse", output_mse).add_f64("local_mse", local_mse);
  t.add_f64("first_loss", first_loss).add_f64("final_loss", final_loss).add_i64("restarts", restarts);
  t.add_i64("skipped_steps", skipped);
  return t;
}

void record_calibration(const calib::CalibrationReport& result, QuantizationReport& report) {
  for (const auto& s : result.sites)
    if (s.spec.enabled()) report.sites.push_back(site_row(s.site, s.spec, s.mse, s.sqnr_db));
  for (const auto& f : result.fallbacks)
    report.checks.push_back({"calibration_fallback", "block " + std::to_string(f.block), f.from + "->" + f.to + ": " + f.reason,
                             double(f.block), NAN, 1});
  report.calibration_blocks = block_table(result.blocks);
}

// The codes, scales and zero-points of a baked weight kept on the linear beside its fake weight:
// in the kernels' layout when the format has a kernel form (packed/kernel_format.h; export writes
// them, packed execution runs them), else as GGUF blocks when it maps onto one (w4g32, w8g32: the
// GGUF export writes them); null otherwise or when the quantizer returned no codes.
std::shared_ptr<const model::PackedLinear> packed_form(const quant::QuantSpec& spec,
                                                       const methods::WeightQuantResult& result,
                                                       const torch::Tensor& weight) {
  if (!result.codes.defined()) return nullptr;
  const int64_t n = weight.size(0), k = weight.size(1);
  if (packed::weight_packing_problem(spec, n, k).empty())
    return packed::make_packed_linear(packed::pack_quantized(spec, result.codes, result.scale, result.zero), {});
  if (gguf_type_problem(spec, n, k).empty()) return gguf_block_linear(spec, result.codes, result.scale, result.zero);
  return nullptr;
}

// Weight quantizers that calibrate (GPTQ, awq_clip, learned: OmniQuant, AffineQuant, ABQ-LLM) run
// block by block on the calibration windows, through the registry's BlockCalibrator for their
// type, with per-block checkpoints so a killed run resumes at the next block.
// Closed-form quantizers keep their codes on the baked linears (packed_form); packed execution
// needs them for every block, so it refuses to resume a checkpoint (which holds fake weights only).
void quantize_weights_blockwise(model::LlamaModel& m, const QuantPlanSpec& plan,
                                const std::map<std::string, quant::QuantSpec>& allocation,
                                const std::vector<torch::Tensor>& calibration, const std::string& checkpoint_dir,
                                bool streams_on_host, const std::string& weights_digest, const StageKeys& keys,
                                QuantizationReport& report) {
  const ComponentSpec& quantizer_spec = plan.weight_quantizer;
  if (calibration.empty())
    throw ConfigError(cat("weight quantizer '", quantizer_spec.type, "' needs calibration data: set calibration.data"));
  calib::CalibOptions options;
  options.pack = [](const quant::QuantSpec& spec, const methods::WeightQuantResult& result) {
    return packed_form(spec, result, result.fake_weight);
  };
  options.require_packed = plan.execution == kExecutionPacked;
  options.checkpoint_dir = checkpoint_dir;
  options.streams_on_host = streams_on_host;
  options.weights_digest = weights_digest;
  options.stage_cache = keys.cache;
  options.fp_chain_key = keys.stage_key_of();
  // A requested stop (stop_request.h) ends calibration after the block just committed, whose
  // checkpoint the resumed run starts from; without a checkpoint directory nothing would be kept.
  if (!checkpoint_dir.empty()) options.after_block = [](int64_t) { return !stop_requested(); };
  const calib::SpecForSite spec_for_site = [&](const std::string& site) { return allocation.at(site); };
  auto calibrator = methods::make_block_calibrator(quantizer_spec.type, quantizer_spec.options);
  calib::CalibrationReport calibrated = calib::calibrate_blocks(m, spec_for_site, *calibrator, calibration, options);
  if (!calibrated.completed)
    throw StopRequested(cat("stopped on request after calibration block ", calibrated.blocks.empty() ? -1 : calibrated.blocks.back().block,
                            " of ", m.config().num_layers, " (checkpoint in ", checkpoint_dir, ")"));
  record_stage(report, "fp_chain", calibrated.fp_chain);
  record_calibration(std::move(calibrated), report);
  m.check_weights();
}

// A streamed model holds no blocks to rewrite: the quantizer runs on each block as it is loaded.
// Only calibration-free quantizers get here (the same weights give the same result on every load).
void quantize_weights_streamed(model::LlamaModel& m, std::unique_ptr<methods::WeightQuantizer> quantizer,
                               const std::map<std::string, quant::QuantSpec>& allocation, QuantizationReport& report) {
  std::shared_ptr<methods::WeightQuantizer> shared = std::move(quantizer);
  m.set_block_transform([shared, allocation](int64_t layer, model::DecoderBlock& block) {
    torch::NoGradGuard no_grad;
    for (model::LinearKind kind : model::all_linear_kinds()) {
      const std::string site = model::site_name(layer, model::weight_site(kind));
      const quant::QuantSpec& spec = allocation.at(site);
      if (!spec.enabled()) continue;
      auto& linear = block.linear(kind);
      methods::WeightContext ctx;
      ctx.site = site;
      linear.weight = shared->quantize(linear.weight, spec, ctx).fake_weight.to(linear.weight.scalar_type());
    }
  });
  for (int64_t layer = 0; layer < m.config().num_layers; ++layer)  // statistics would need every block loaded: NaN
    for (model::LinearKind kind : model::all_linear_kinds()) {
      const std::string site = model::site_name(layer, model::weight_site(kind));
      const quant::QuantSpec& spec = allocation.at(site);
      if (spec.enabled()) report.sites.push_back(site_row(site, spec, NAN, NAN));
    }
}

void quantize_weights(model::LlamaModel& m, const QuantPlanSpec& plan,
                      const std::map<std::string, quant::QuantSpec>& allocation,
                      const std::vector<torch::Tensor>& calibration, const std::string& checkpoint_dir,
                      bool streams_on_host, const std::string& weights_digest, const StageKeys& keys,
                      QuantizationReport& report) {
  const auto& type = plan.weight_quantizer.type;
  if (methods::weight_quantizer_needs_calibration(type))
    return quantize_weights_blockwise(m, plan, allocation, calibration, checkpoint_dir, streams_on_host,
                                      weights_digest, keys, report);
  auto quantizer = methods::make_weight_quantizer(type, plan.weight_quantizer.options);
  if (m.streamed()) return quantize_weights_streamed(m, std::move(quantizer), allocation, report);
  const auto& config = m.config();
  torch::NoGradGuard no_grad;
  Progress progress("quantize weights", config.num_layers, "layer");
  for (int64_t layer = 0; layer < config.num_layers; ++layer) {
    for (model::LinearKind kind : model::all_linear_kinds()) {
      std::string site = model::site_name(layer, model::weight_site(kind));
      const quant::QuantSpec& spec = allocation.at(site);
      if (!spec.enabled()) continue;
      auto& linear = linear_at(m, layer, kind);
      methods::WeightContext ctx;
      ctx.site = site;
      methods::WeightQuantResult result;
      try {
        result = quantizer->quantize(linear.weight, spec, ctx);
      } catch (Error& e) {
        e.with_context(cat("while quantizing ", site, " (", quant::describe(spec), ")"));
        throw;
      }
      report.sites.push_back(site_row(site, spec, quant::mse(linear.weight, result.fake_weight),
                                      quant::sqnr_db(linear.weight, result.fake_weight)));
      linear.packed = packed_form(spec, result, linear.weight);
      linear.weight = result.fake_weight.to(linear.weight.scalar_type());
    }
    progress.advance();
  }
  m.check_weights();
}

// Error accumulators for one activation site, filled while measuring.
struct ActivationError {
  double signal = 0;
  double noise = 0;
  double count = 0;
};

void install_activation_quantizers(model::LlamaModel& m, const std::map<std::string, quant::QuantSpec>& allocation,
                                   const std::vector<torch::Tensor>& calibration, QuantizationReport& report) {
  const auto& config = m.config();
  struct Active {
    std::string site;
    int64_t layer;
    SiteKind kind;
    quant::QuantSpec spec;
    std::shared_ptr<quant::RangeObserver> observer;  // static ranges only
  };
  std::vector<Active> active;
  for (int64_t layer = 0; layer < config.num_layers; ++layer)
    for (SiteKind kind : model::all_site_kinds()) {
      if (model::is_weight(kind)) continue;
      std::string site = model::site_name(layer, kind);
      const auto& spec = allocation.at(site);
      if (!spec.enabled()) continue;
      Active a{site, layer, kind, spec, nullptr};
      if (!spec.dynamic) a.observer = std::make_shared<quant::RangeObserver>(spec);
      active.push_back(a);
    }
  if (active.empty()) return;

  bool any_static = false;
  for (const auto& a : active) any_static = any_static || a.observer;
  if (any_static) {
    if (calibration.empty())
      throw ConfigError("static activation ranges (dynamic: false) need calibration data: set calibration.data");
    for (auto& a : active)
      if (a.observer)
        m.set_activation_hook(a.layer, a.kind, [obs = a.observer](const torch::Tensor& x) {
          obs->observe(x);
          return x;
        });
    torch::NoGradGuard no_grad;
    Progress progress("calibrate activation ranges", int64_t(calibration.size()), "win");
    for (const auto& window : calibration) {
      m.forward(window);
      progress.advance();
    }
    m.clear_activation_hooks();
  }

  // Measuring hooks: quantize and accumulate the error on a few calibration windows.
  std::vector<ActivationError> errors(active.size());
  auto quantizer_of = [](const Active& a) -> model::ActivationHook {
    if (a.observer) return [obs = a.observer](const torch::Tensor& x) { return obs->quantize(x).fake; };
    return [spec = a.spec](const torch::Tensor& x) { return quant::fake_quant(x, spec).fake; };
  };
  if (!calibration.empty()) {
    for (size_t i = 0; i < active.size(); ++i) {
      auto quantize = quantizer_of(active[i]);
      m.set_activation_hook(active[i].layer, active[i].kind, [quantize, err = &errors[i]](const torch::Tensor& x) {
        auto q = quantize(x);
        auto x64 = x.to(torch::kFloat64);
        err->signal += x64.square().sum().item<double>();
        err->noise += (x64 - q.to(torch::kFloat64)).square().sum().item<double>();
        err->count += double(x.numel());
        return q;
      });
    }
    torch::NoGradGuard no_grad;
    for (size_t w = 0; w < std::min(kActivationErrorWindows, calibration.size()); ++w) m.forward(calibration[w]);
  }
  for (size_t i = 0; i < active.size(); ++i) {
    const auto& e = errors[i];
    double mse = e.count > 0 ? e.noise / e.count : NAN;
    double sqnr = e.count > 0 ? (e.noise > 0 ? 10 * std::log10(e.signal / e.noise) : INFINITY) : NAN;
    report.sites.push_back(site_row(active[i].site, active[i].spec, mse, sqnr));
    m.set_activation_hook(active[i].layer, active[i].kind, quantizer_of(active[i]));
  }
}

}  // namespace

QuantizationReport quantize_model(model::LlamaModel& m, const QuantPlanSpec& plan,
                                  const std::vector<torch::Tensor>& calibration, const std::string& checkpoint_dir,
                                  bool streams_on_host, const std::string& weights_digest,
                                  const StageCache* stage_cache) {
  QuantizationReport report;
  if (m.streamed() && !plan.corrections.empty())  // refuse before the first (slow) streamed forward
    throw Error(cat("correction '", plan.corrections.front().type, "': ", model::kStreamedRefusal));
  const auto sites = methods::allocation_sites(m.config());
  // Corrections that search on the weight grid (AWQ) need the plan first; the plan is made on the
  // model as loaded.
  const methods::SitePlan allocation = plan_sites(m, plan, sites, calibration, weights_digest, &report.allocation);
  report.setting = methods::setting_label(allocation, sites);
  report.plan = plan_table(allocation, sites);
  report.plan_summary = methods::summarize_plan(allocation, sites);
  StageKeys keys = stage_keys(m, calibration, weights_digest, stage_cache);
  apply_corrections(m, plan, allocation, calibration, keys, report);

  quantize_weights(m, plan, allocation, calibration, checkpoint_dir, streams_on_host, weights_digest, keys, report);
  install_activation_quantizers(m, allocation, calibration, report);
  if (plan.execution == kExecutionPacked) report.packed = execute_packed(m, allocation);
  for (const char* stage : {"activation_stats", "fp_chain"}) report.stages.emplace(stage, StageUse{});  // not used: n/a
  for (int64_t layer = 0; layer < m.config().num_layers; ++layer)
    for (SiteKind kind : model::all_site_kinds())
      if (model::is_activation(kind)) {
        const std::string site = model::site_name(layer, kind);
        const auto& spec = allocation.at(site);
        if (spec.enabled()) report.activations[site] = spec;
        if (!token_local(spec)) report.prefix_reuse_exact = false;
      } else if (allocation.at(model::site_name(layer, kind)).enabled()) {
        report.weights[model::site_name(layer, kind)] = allocation.at(model::site_name(layer, kind));
      }
  return report;
}

bool token_local(const quant::QuantSpec& spec) {
  return !spec.enabled() || !spec.dynamic || spec.granularity == quant::Granularity::per_token ||
         spec.granularity == quant::Granularity::per_group;
}

}  // namespace abq::pipeline

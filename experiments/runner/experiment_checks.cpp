#include "experiments/runner/experiment_checks.h"

#include <filesystem>

#include "evaluators/registry.h"
#include "framework/core/error.h"
#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"
#include "framework/io/hf_config.h"
#include "framework/methods/allocations/site_overrides.h"
#include "framework/methods/allocations/site_table.h"
#include "framework/methods/registry.h"
#include "framework/model/llama_model.h"
#include "framework/model/site_names.h"
#include "framework/packed/kernel_format.h"
#include "framework/pipeline/model_loader.h"
#include "framework/pipeline/packed_execution.h"
#include "framework/pipeline/quantize_model.h"
#include "framework/quant/fake_quant.h"

namespace abq::runner {
namespace fs = std::filesystem;
using config::Diagnostics;
using config::Document;
using config::KeyPath;
using pipeline::ComponentSpec;
using pipeline::ExperimentSpec;
using pipeline::RandomModelSpec;

namespace {

KeyPath override_path(size_t i) { return {"quant", "allocation", "overrides", config::index_segment(i)}; }

KeyPath child(KeyPath path, const std::string& key) {
  path.push_back(key);
  return path;
}

// The first of `keys` under `path` that the document spells out, else `path` itself.
KeyPath written_key(const Document& document, const KeyPath& path, std::initializer_list<const char*> keys) {
  for (const char* key : keys)
    if (document.key_position(child(path, key))) return child(path, key);
  return path;
}

// ---- evaluators: each one is built (cheap, no data read) so its own option checks run now.

void check_evaluators(const ExperimentSpec& spec, const Document& document, Diagnostics& diagnostics) {
  for (size_t i = 0; i < spec.eval.size(); ++i) {
    const ComponentSpec& e = spec.eval[i];
    const KeyPath at{"eval", config::index_segment(i)};
    if (e.type == "perplexity") {
      // Pointed at the key itself: the evaluator's message cannot say which key it came from.
      const int64_t seqlen = e.options["seqlen"].as<int64_t>();
      const int64_t stride = e.options["stride"].as<int64_t>();
      if (stride > seqlen) {
        diagnostics.add(child(at, "stride"), true,
                        cat(config::format_path(at), ".stride ", stride, " is larger than seqlen ", seqlen),
                        "windows of seqlen tokens start every stride tokens; stride must be in [1, seqlen] (0 = seqlen)");
        continue;
      }
    }
    try {
      evaluators::make_evaluator(e.type, e.options, [&](const std::string& p) { return spec.resolve_path(p); });
    } catch (const Error& error) {
      diagnostics.add(child(at, "type"), true, cat(config::format_path(at), ": ", error.message()));
    }
  }
}

// ---- activation ranges

struct ActivationSpec {
  KeyPath path;
  const quant::QuantSpec* spec;
};

std::vector<ActivationSpec> activation_specs(const ExperimentSpec& spec) {
  std::vector<ActivationSpec> out = {{{"quant", "activations"}, &spec.quant.activations},
                                     {{"quant", "kv"}, &spec.quant.kv}};
  const auto& overrides = spec.quant.overrides;
  for (size_t i = 0; i < overrides.size(); ++i) {
    if (overrides[i].activations) out.push_back({child(override_path(i), "activations"), &*overrides[i].activations});
    if (overrides[i].kv) out.push_back({child(override_path(i), "kv"), &*overrides[i].kv});
  }
  return out;
}

void check_activation_ranges(const ExperimentSpec& spec, const Document& document, Diagnostics& diagnostics) {
  for (const auto& a : activation_specs(spec)) {
    if (!a.spec->enabled() || a.spec->dynamic) continue;
    const KeyPath key = written_key(document, a.path, {"dynamic", "granularity"});
    try {
      quant::RangeObserver observer(*a.spec);  // holds the rule for which granularities may be static
    } catch (const Error& error) {
      diagnostics.add(key, true, cat(config::format_path(a.path), ": ", error.message()),
                      "set dynamic: true, or granularity: per_tensor / per_channel / per_head");
      continue;
    }
    if (spec.calibration.data.empty())
      diagnostics.add(key, true,
                      cat(config::format_path(a.path), ": static activation ranges (dynamic: false) need calibration data"),
                      "set calibration.data to a text file, or dynamic: true");
  }
}

// ---- calibration data for corrections and block-wise weight quantizers

void check_calibration_needs(const ExperimentSpec& spec, const Document& document, Diagnostics& diagnostics) {
  if (!spec.calibration.data.empty()) return;
  for (size_t j = 0; j < spec.quant.corrections.size(); ++j) {
    const KeyPath at{"quant", "corrections", config::index_segment(j)};
    diagnostics.add(written_key(document, at, {"type"}), true,
                    cat("correction '", spec.quant.corrections[j].type, "' (", config::format_path(at),
                        ") needs calibration data"),
                    "set calibration.data to a text file");
  }
  const std::string& type = spec.quant.weight_quantizer.type;
  if (methods::weight_quantizer_needs_calibration(type))
    diagnostics.add(written_key(document, {"quant", "weight_quantizer"}, {"type"}), true,
                    cat("weight quantizer '", type, "' needs calibration data"), "set calibration.data to a text file");
}

// ---- model shapes

// False (with diagnostics) when the random model's head counts do not fit its hidden size.
bool check_random_model(const ExperimentSpec& spec, Diagnostics& diagnostics) {
  const RandomModelSpec& r = spec.model.random;
  const KeyPath at{"model", "random"};
  bool ok = true;
  if (r.hidden_size % r.num_heads != 0) {
    diagnostics.add(child(at, "num_heads"), true,
                    cat("model.random.num_heads ", r.num_heads, " does not divide hidden_size ", r.hidden_size),
                    "each head gets hidden_size / num_heads channels");
    ok = false;
  }
  if (r.num_heads % r.num_kv_heads != 0) {
    diagnostics.add(child(at, "num_kv_heads"), true,
                    cat("model.random.num_kv_heads ", r.num_kv_heads, " does not divide num_heads ", r.num_heads),
                    "grouped-query attention shares each KV head among num_heads / num_kv_heads heads");
    ok = false;
  }
  if (!ok) return false;
  try {
    model::resolve_config(pipeline::random_model_config(r));
  } catch (const Error& error) {
    diagnostics.add(at, true, cat("model.random: ", error.message()));
    return false;
  }
  return true;
}

// The checkpoint's shapes when its header can be read now (a regular file or config.json; a
// missing checkpoint is the run's to report, and a FIFO must not block validation).
std::optional<model::LlamaConfig> read_checkpoint_config(const ExperimentSpec& spec, const std::string& path) {
  std::error_code ec;
  try {
    if (spec.model.source == "gguf" && fs::is_regular_file(path, ec))
      return io::llama_config_from_gguf(io::GgufFile::open(path));
    if (spec.model.source == "hf" && fs::is_regular_file(path + "/config.json", ec))
      return io::llama_config_from_hf(path + "/config.json");
  } catch (const Error&) {
    // A damaged checkpoint is reported, with its name, when the run loads it.
  }
  return std::nullopt;
}

bool checkpoint_config(const ExperimentSpec& spec, ShapeCache& shapes, model::LlamaConfig& config) {
  const std::string path = spec.resolve_path(spec.model.path);
  const std::string key = spec.model.source + ":" + path;
  auto it = shapes.find(key);
  if (it == shapes.end()) it = shapes.emplace(key, read_checkpoint_config(spec, path)).first;
  if (!it->second) return false;
  config = *it->second;
  return true;
}

// The model's shapes when they are known now: a valid random model's, or a readable checkpoint's.
bool model_config(const ExperimentSpec& spec, ShapeCache& shapes, Diagnostics* diagnostics, model::LlamaConfig& config) {
  if (spec.model.source == "random") {
    if (diagnostics && !check_random_model(spec, *diagnostics)) return false;
    config = pipeline::random_model_config(spec.model.random);
    return true;
  }
  return checkpoint_config(spec, shapes, config);  // else checked by the run before calibration
}

void check_weight_groups(const ExperimentSpec& spec, ShapeCache& shapes, Diagnostics& diagnostics) {
  model::LlamaConfig config;
  if (!model_config(spec, shapes, &diagnostics, config)) return;
  for (const auto& problem : weight_group_problems(spec, config))
    diagnostics.add(problem.key, true, problem.message, problem.hint);
}

// ---- quant.execution: packed

// The declared plan (site -> spec) and the sites with their shapes; false when the model config or
// an override is bad (reported by the other checks or the run).
bool declared_sites(const ExperimentSpec& spec, const model::LlamaConfig& model_config,
                    std::vector<methods::SiteInfo>& sites, std::map<std::string, quant::QuantSpec>& plan) {
  try {
    sites = methods::allocation_sites(model::resolve_config(model_config));
    methods::DefaultSpecs defaults{spec.quant.weights, spec.quant.activations, spec.quant.kv};
    plan = methods::declared_plan(sites, defaults, spec.quant.overrides);
  } catch (const Error&) {
    return false;
  }
  return true;
}

// "layers.3.mlp.down_proj.weight" -> "mlp.down_proj"
std::string linear_of_site(const std::string& site) {
  const auto first = site.find('.', site.find('.') + 1);
  return site.substr(first + 1, site.rfind('.') - first - 1);
}

// The input site of a weight site: "layers.3.mlp.down_proj.weight" -> "layers.3.mlp.down_proj.input".
std::string input_of(const std::string& weight_site) { return weight_site.substr(0, weight_site.rfind('.')) + ".input"; }

void check_packed_execution(const ExperimentSpec& spec, const Document& document, ShapeCache& shapes,
                            Diagnostics& diagnostics) {
  if (spec.quant.execution != pipeline::kExecutionPacked) return;
  const KeyPath key{"quant", "execution"};
  if (spec.model.device != "cpu")
    diagnostics.add(key, true, cat("quant.execution: packed runs on device cpu in this build; model.device is ", spec.model.device),
                    "set model.device: cpu, or quant.execution: simulated");
  if (spec.model.streamed)
    diagnostics.add(key, true, "quant.execution: packed needs the model resident; model.streamed is true",
                    "set model.streamed: false");
  model::LlamaConfig config;
  std::vector<methods::SiteInfo> sites;
  std::map<std::string, quant::QuantSpec> plan;
  const bool shapes_known = model_config(spec, shapes, nullptr, config) && declared_sites(spec, config, sites, plan);
  const std::string& quantizer = spec.quant.weight_quantizer.type;
  if (!methods::weight_quantizer_keeps_codes(quantizer)) {
    // Name the first linear it would leave without codes (when the shapes are known).
    std::string first;
    int64_t count = 0;
    for (const auto& info : sites)
      if (info.role == methods::SiteRole::weight && plan.at(info.name).enabled() && count++ == 0) first = info.name;
    diagnostics.add(key, true,
                    cat("quant.execution: packed: weight quantizer '", quantizer, "' trains whole blocks and bakes "
                        "fake-quantized weights without integer codes, so ",
                        first.empty() ? std::string("no quantized linear")
                                      : cat(first, " (", quant::describe(plan.at(first), "w"), ")",
                                            count > 1 ? cat(" and ", count - 1, " more linears") : std::string()),
                        " cannot run packed"),
                    "use a weight quantizer that keeps its codes (rtn, gptq, awq_clip), or quant.execution: simulated");
  }
  if (!shapes_known) return;
  // One message per distinct problem: its first site and how many more linears share it.
  std::map<std::string, std::pair<std::string, int64_t>> by_problem;
  std::vector<std::string> order;
  for (const auto& info : sites) {
    if (info.role != methods::SiteRole::weight || !plan.at(info.name).enabled()) continue;
    const std::string problem = packed::weight_packing_problem(plan.at(info.name), info.out_features, info.in_features);
    if (problem.empty()) continue;
    auto [it, fresh] = by_problem.try_emplace(problem, info.name, 0);
    if (fresh) order.push_back(problem);
    ++it->second.second;
  }
  for (const auto& problem : order) {
    const auto& [site, count] = by_problem.at(problem);
    diagnostics.add(key, true,
                    cat("quant.execution: packed: ", site, " (", quant::describe(plan.at(site), "w"), ") cannot run packed: ",
                        problem, count > 1 ? cat(" (and ", count - 1, count == 2 ? " more linear)" : " more linears)") : std::string()),
                    "the kernels take 1..8-bit weights in groups of 64 or 128 or one per output channel; override "
                    "those sites, or set quant.execution: simulated");
  }
}

}  // namespace

std::vector<KeyProblem> weight_group_problems(const ExperimentSpec& spec, const model::LlamaConfig& model_config) {
  // fake_quant gives a shorter last group when G does not divide K (RTN); GPTQ's column blocks and
  // awq_clip's group search need whole groups (gptq.cpp, awq_clip.cpp throw on a misfit).
  const std::string& quantizer = spec.quant.weight_quantizer.type;
  if (quantizer != "gptq" && quantizer != "awq_clip") return {};
  model::LlamaConfig config;
  std::vector<methods::SiteInfo> sites;  // with each linear's input size
  std::map<std::string, quant::QuantSpec> allocation;
  try {
    config = model::resolve_config(model_config);
    sites = methods::allocation_sites(config);
    methods::DefaultSpecs defaults{spec.quant.weights, spec.quant.activations, spec.quant.kv};
    allocation = methods::declared_plan(sites, defaults, spec.quant.overrides);
  } catch (const Error&) {
    return {};  // a bad model config or an override matching nothing: the run names those
  }
  const auto& overrides = spec.quant.overrides;
  struct Found {
    std::string site;
    int64_t group = 0, in = 0, count = 0;
  };
  std::map<std::string, std::pair<KeyPath, Found>> by_key;  // first misfit per key, in site order
  std::vector<std::string> order;
  for (const auto& info : sites) {
    if (info.role != methods::SiteRole::weight) continue;
    const std::string& site = info.name;
    const quant::QuantSpec& s = allocation.at(site);
    const int64_t in = info.in_features;
    if (!s.enabled() || s.granularity != quant::Granularity::per_group || s.group_size <= 0 || in % s.group_size == 0)
      continue;
    // The key that set this group size: the last matching override that writes one, else the default.
    KeyPath key{"quant", "weights", "group_size"};
    for (size_t i = overrides.size(); i-- > 0;) {
      if (!overrides[i].weights || !methods::site_pattern_matches(overrides[i].pattern, info)) continue;
      const KeyPath candidate = child(child(override_path(i), "weights"), "group_size");
      if (spec.key_positions.count(config::format_path(candidate))) key = candidate;
      break;
    }
    const std::string name = config::format_path(key);
    auto [it, fresh] = by_key.try_emplace(name, key, Found{site, s.group_size, in, 0});
    if (fresh) order.push_back(name);
    ++it->second.second.count;
  }
  std::vector<KeyProblem> problems;
  for (const auto& name : order) {
    const auto& [key, f] = by_key.at(name);
    const std::string module = f.site.substr(0, f.site.rfind('.'));
    problems.push_back(
        {key,
         cat(name, " ", f.group, " does not divide the input size ", f.in, " of ", module,
             f.count > 1 ? cat(" (and ", f.count - 1, " more linears)") : std::string()),
         cat(quantizer, " needs group_size to divide every input size it applies to; this model has hidden_size ",
             config.hidden_size, ", attention output ", config.num_heads * config.head_dim, ", intermediate_size ",
             config.intermediate_size)});
  }
  return problems;
}

void require_weight_groups_fit(const ExperimentSpec& spec, const model::LlamaConfig& model_config) {
  std::string out;
  for (const auto& p : weight_group_problems(spec, model_config)) {
    const auto where = spec.key_positions.find(config::format_path(p.key));
    out += (out.empty() ? "" : "\n") + (where == spec.key_positions.end() ? spec.file : where->second) + ": " +
           p.message + "\n    " + p.hint;
  }
  if (!out.empty()) throw ConfigError(out);
}

std::map<std::string, std::string> runtime_key_positions(const Document& document) {
  std::map<std::string, std::string> out;
  auto keep = [&](const KeyPath& key) {
    if (const config::SourcePosition* p = document.key_position(key)) out[config::format_path(key)] = p->describe();
  };
  keep({"quant", "weights", "group_size"});
  const YAML::Node overrides = document.find({"quant", "allocation", "overrides"});
  if (overrides.IsSequence())
    for (size_t i = 0; i < overrides.size(); ++i) keep(child(child(override_path(i), "weights"), "group_size"));
  return out;
}

void check_experiment(const ExperimentSpec& spec, const Document& document, Diagnostics& diagnostics,
                      ShapeCache& shapes) {
  check_evaluators(spec, document, diagnostics);
  check_activation_ranges(spec, document, diagnostics);
  check_calibration_needs(spec, document, diagnostics);
  check_weight_groups(spec, shapes, diagnostics);
  check_packed_execution(spec, document, shapes, diagnostics);
}

std::vector<std::string> packed_execution_notes(const ExperimentSpec& spec, ShapeCache& shapes) {
  if (spec.quant.execution != pipeline::kExecutionPacked) return {};
  model::LlamaConfig config;
  std::vector<methods::SiteInfo> sites;
  std::map<std::string, quant::QuantSpec> plan;
  if (!model_config(spec, shapes, nullptr, config) || !declared_sites(spec, config, sites, plan))
    return {"packed: the model's shapes are not readable now; the run checks every linear when it loads the model"};
  // One line per linear and what it runs as, with the layers that share it.
  std::map<std::string, int64_t> count;
  std::vector<std::string> order;
  for (const auto& info : sites) {
    if (info.role != methods::SiteRole::weight) continue;
    const quant::QuantSpec& w = plan.at(info.name);
    const quant::QuantSpec& a = plan.at(input_of(info.name));
    std::string line;
    if (!w.enabled()) {
      line = cat(linear_of_site(info.name), ": fp weight, runs unquantized");
    } else if (const std::string problem = packed::weight_packing_problem(w, info.out_features, info.in_features);
               !problem.empty()) {
      line = cat(linear_of_site(info.name), ": cannot run packed: ", problem);
    } else {
      const int64_t k = info.in_features, padded = packed::padded_k(k);
      const std::string fusion = packed::activation_fusion_problem(a);
      line = cat(linear_of_site(info.name), ": ", quant::describe(w, "w"), " as ", packed::describe(packed::weight_format(w)),
                 ", K ", k, padded != k ? cat(" padded to ", padded) : std::string(), "; input ",
                 !a.enabled() ? std::string("fp") : fusion.empty() ? cat(quant::describe(a, "a"), " fused")
                                                                   : cat(quant::describe(a, "a"), " as a hook (", fusion, ")"));
    }
    if (count[line]++ == 0) order.push_back(line);
  }
  std::vector<std::string> out;
  for (const auto& line : order) out.push_back(cat("packed: ", line, " [", count[line], count[line] == 1 ? " linear]" : " linears]"));
  return out;
}

}  // namespace abq::runner

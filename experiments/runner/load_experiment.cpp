#include "experiments/runner/load_experiment.h"

#include <algorithm>
#include <filesystem>

#include "evaluators/registry.h"
#include "experiments/runner/cluster_options.h"
#include "experiments/runner/experiment_checks.h"
#include "framework/config/canonical.h"
#include "framework/config/diagnostics.h"
#include "framework/config/loader.h"
#include "framework/config/overrides.h"
#include "framework/config/schema.h"
#include "framework/config/validate.h"
#include "framework/config/variables.h"
#include "framework/config/variants.h"
#include "framework/core/error.h"
#include "framework/methods/registry.h"
#include "framework/pipeline/calibration_data.h"
#include "framework/quant/quant_spec_options.h"

namespace abq::runner {
namespace fs = std::filesystem;
using config::Schema;
using pipeline::calibration_sources;
using pipeline::ComponentSpec;
using pipeline::ExperimentSpec;

namespace {

constexpr const char* kSeedsKey = "seeds";

// ---- schema ---------------------------------------------------------------------------------

// A QuantSpec's keys from its declaration (quant/quant_spec_options.h). `partial` (allocation
// overrides) declares the same keys with no defaults, so an override changes only what it names.
Schema quant_spec_schema(quant::Granularity default_granularity, bool partial) {
  const auto& options = quant::quant_spec_options();
  return partial ? options.partial_schema() : options.schema(quant::default_spec(default_granularity));
}

// An override's spec is its partial keys laid over the default spec of its role; the spec's rules
// apply to that result, reported at the override's keys.
std::vector<config::RuleProblem> override_spec_problems(const YAML::Node& quant) {
  const auto& options = quant::quant_spec_options();
  std::vector<config::RuleProblem> problems;
  const YAML::Node overrides = quant["allocation"]["overrides"];
  for (size_t i = 0; i < overrides.size(); ++i)
    for (const char* role : {"weights", "activations", "kv"}) {
      if (!overrides[i][role]) continue;
      const auto spec = options.decode(overrides[i][role], options.decode(quant[role]));
      for (const auto& p : options.check(spec)) {
        config::RuleProblem at = p;
        at.key = {"allocation", "overrides", config::index_segment(i), role};
        at.key.insert(at.key.end(), p.key.begin(), p.key.end());
        problems.push_back(at);
      }
    }
  return problems;
}

// Cross-key rules of `model`, reported at the key at fault.
std::vector<config::RuleProblem> model_problems(const YAML::Node& m) {
  std::vector<config::RuleProblem> problems;
  const std::string source = m["source"].as<std::string>();
  if (m["streamed"] && m["streamed"].as<bool>() && source != "hf")
    problems.push_back({{"streamed"}, cat("true needs model.source: hf (a safetensors checkpoint), got model.source: ", source),
                        "convert the checkpoint to safetensors or set model.streamed: false"});
  if (source != "random" && !m["path"])
    problems.push_back({{"path"}, cat("required for model.source ", source), "the checkpoint file (gguf) or folder (hf)"});
  const std::string device = m["device"].as<std::string>();
  if (!(device == "cpu" || device == "cuda" || device.rfind("cuda:", 0) == 0))
    problems.push_back({{"device"}, cat("'", device, "' is not one of cpu, cuda, cuda:N"), ""});
  return problems;
}

// quant.allocation: a registered allocation chosen by `type` with its own options, plus the
// per-site overrides every allocation accepts (applied to whatever plan it returns).
Schema allocation_schema(const Schema& override_entry) {
  Schema schema = methods::component_schema(methods::ComponentKind::allocation);
  Schema::Fields types;
  for (const auto& [name, options] : schema.fields()) {
    Schema with_overrides = options;
    with_overrides.add("overrides", Schema::list(override_entry)
                                        .default_value(YAML::Node(YAML::NodeType::Sequence))
                                        .doc("per-site specs by glob, applied in order after the allocation"));
    types.push_back({name, with_overrides});
  }
  return Schema::tagged("type", types).default_type(schema.default_type_name());
}

Schema build_experiment_schema() {
  Schema random = Schema::object({
      {"vocab_size", Schema::integer().range(2, 1 << 22).default_value(258)},
      {"hidden_size", Schema::integer().range(1, 1 << 16).default_value(64)},
      {"intermediate_size", Schema::integer().range(1, 1 << 18).default_value(128)},
      {"num_layers", Schema::integer().range(1, 1024).default_value(2)},
      {"num_heads", Schema::integer().range(1, 1024).default_value(4)},
      {"num_kv_heads", Schema::integer().range(1, 1024).default_value(2)},
      {"tie_embeddings", Schema::boolean().default_value(true)},
      {"seed", Schema::integer().range(0, 1e18).default_value(0)},
  });
  Schema model = Schema::object({
      {"source", Schema::enumeration({"random", "gguf", "hf"}).default_value("random")
                     .doc("random: seeded tiny LLaMA; gguf: a .gguf file; hf: a folder with config.json + safetensors")},
      {"path", Schema::string().optional().doc("checkpoint file or folder (gguf, hf)")},
      {"dtype", Schema::enumeration({"float32", "float16", "bfloat16", "float64"}).default_value("float32")},
      {"device", Schema::string().default_value("cpu").doc("cpu, cuda or cuda:N")},
      {"streamed", Schema::boolean().optional()
                       .doc("hf only: keep embeddings, final norm and lm_head resident and read each decoder "
                            "block from the mapped checkpoint when a forward reaches it (peak RAM ~ one block); "
                            "fp evaluation and calibration-free weight quantizers (rtn) only. Default false")},
      {"random", random.doc("hyper-parameters of the random model")},
  });
  model.rule("streamed needs source hf; path needs a source other than random; device cpu, cuda or cuda:N", model_problems);
  Schema override_entry = Schema::object({
      {"sites", Schema::string().required().doc("glob over site names, e.g. layers.*.mlp.down_proj")},
      {"weights", quant_spec_schema(quant::Granularity::per_channel, true).optional()},
      {"activations", quant_spec_schema(quant::Granularity::per_token, true).optional()},
      {"kv", quant_spec_schema(quant::Granularity::per_token, true).optional()},
      {"skip", Schema::boolean().default_value(false).doc("leave the matched sites unquantized")},
  });
  Schema quant = Schema::object({
      {"weights", quant_spec_schema(quant::Granularity::per_channel, false).doc("default spec of every linear weight")},
      {"activations", quant_spec_schema(quant::Granularity::per_token, false).doc("default spec of every linear input")},
      {"kv", quant_spec_schema(quant::Granularity::per_token, false).doc("default spec of attention Q, K, V")},
      {"weight_quantizer", methods::component_schema(methods::ComponentKind::weight_quantizer)},
      {"corrections", Schema::list(methods::component_schema(methods::ComponentKind::correction))
                          .default_value(YAML::Node(YAML::NodeType::Sequence))},
      {"allocation", allocation_schema(override_entry)},
      {"execution", Schema::enumeration({"simulated", "packed"}).optional()
                        .doc("simulated (default): quantized weights are fake-quantized fp weights and activation "
                             "quantizers fake-quantize; packed: quantized linears run on their packed codes through "
                             "the kernels (device cpu), with per-token activation quantizers at their inputs fused "
                             "into the call. `abq validate` names every linear that cannot run packed and why")},
  });
  quant.rule("an override's spec (its keys over the role's default) follows the spec's rules", override_spec_problems);
  return Schema::object({
      {"name", Schema::string().required().doc("experiment name")},
      {"vars", Schema::map_of(Schema::any()).optional().doc("variables used as ${name} in string values")},
      {"seed", Schema::integer().range(0, 1e18).default_value(0).doc("torch seed of the run")},
      {"model", model},
      {"tokenizer", Schema::object({{"type", Schema::enumeration({"auto", "byte"}).default_value("auto")}})},
      {"calibration", Schema::object({
                          {"data", Schema::string().optional().doc("file the calibration windows are drawn from; absent: no calibration")},
                          {"source", Schema::enumeration(calibration_sources()).optional().doc(
                               "how data is read: text (the raw file; also when absent), wikitext2 (HF rows of wiki.train.raw joined \"\\n\\n\"), "
                               "ptb (rows of ptb.train.txt joined \"\\n\\n\"), c4 (C4 json(.gz), GPTQ's get_c4 document sampler)")},
                          {"samples", Schema::integer().range(1, 1 << 20).default_value(128)},
                          {"seqlen", Schema::integer().range(2, 1 << 20).default_value(2048)},
                          {"seed", Schema::integer().range(0, 1e18).default_value(2)},
                          {"streams_on_host", Schema::boolean().optional().doc(
                               "keep block-wise calibration's activation streams in CPU memory (large models on one GPU)")},
                      })},
      {"quant", quant},
      {"eval", Schema::list(evaluators::evaluator_schema()).default_value(YAML::Node(YAML::NodeType::Sequence))},
      {"results", Schema::string().required().doc("HDF5 results file")},
      {"seeds", Schema::list(Schema::integer().range(0, 1e18)).min_size(1).optional()
                    .doc("calibration seeds: every run is repeated once per seed (calibration.seed), named "
                         "<run>/seed=N; results tables show mean ± std over them")},
      {"cluster", cluster_options().schema().doc("how `abq sweep` executes the runs (local workers or Slurm job "
                                                 "arrays); not part of a run's config or hash")},
      {"export", Schema::string().optional()
                     .doc("folder for the quantized model (HF safetensors + config.json + abq_quant.json, "
                          "float16 when model.dtype is float16, else float32); \"{run}\" becomes the run name. "
                          "`abq eval FILE --model FOLDER` re-installs its activation quantizers. A path ending in "
                          ".gguf writes one llama.cpp GGUF file instead (w4g32 -> Q4_0 / Q4_1, symmetric w8g32 -> "
                          "Q8_0, fp16 scales, which the run then evaluates; weight-only runs)")},
  });
}

// ---- typed views of the resolved tree ------------------------------------------------------

ComponentSpec parse_component(const YAML::Node& n) {
  ComponentSpec c;
  c.type = n["type"].as<std::string>();
  c.options = YAML::Clone(n);
  c.options.remove("type");
  return c;
}

ExperimentSpec parse_spec(const YAML::Node& r) {
  ExperimentSpec s;
  s.name = r["name"].as<std::string>();
  s.seed = r["seed"].as<uint64_t>();
  const auto& m = r["model"];
  s.model.source = m["source"].as<std::string>();
  s.model.path = m["path"] ? m["path"].as<std::string>() : "";
  s.model.dtype = m["dtype"].as<std::string>();
  s.model.device = m["device"].as<std::string>();
  s.model.streamed = m["streamed"] ? m["streamed"].as<bool>() : false;
  const auto& rm = m["random"];
  s.model.random = {rm["vocab_size"].as<int64_t>(), rm["hidden_size"].as<int64_t>(),
                    rm["intermediate_size"].as<int64_t>(), rm["num_layers"].as<int64_t>(),
                    rm["num_heads"].as<int64_t>(), rm["num_kv_heads"].as<int64_t>(),
                    rm["tie_embeddings"].as<bool>(), rm["seed"].as<uint64_t>()};
  s.tokenizer.type = r["tokenizer"]["type"].as<std::string>();
  const auto& c = r["calibration"];
  s.calibration.data = c["data"] ? c["data"].as<std::string>() : "";
  if (c["source"]) s.calibration.source = c["source"].as<std::string>();
  s.calibration.samples = c["samples"].as<int64_t>();
  s.calibration.seqlen = c["seqlen"].as<int64_t>();
  s.calibration.seed = c["seed"].as<uint64_t>();
  s.calibration.streams_on_host = c["streams_on_host"] && c["streams_on_host"].as<bool>();

  const auto& q = r["quant"];
  const auto& spec_options = quant::quant_spec_options();
  s.quant.weights = spec_options.decode(q["weights"]);
  s.quant.activations = spec_options.decode(q["activations"]);
  s.quant.kv = spec_options.decode(q["kv"]);
  s.quant.weight_quantizer = parse_component(q["weight_quantizer"]);
  for (const auto& n : q["corrections"]) s.quant.corrections.push_back(parse_component(n));
  s.quant.allocation = parse_component(q["allocation"]);
  if (q["execution"]) s.quant.execution = q["execution"].as<std::string>();
  s.quant.allocation.options.remove("overrides");
  for (const auto& o : q["allocation"]["overrides"]) {
    methods::SiteOverride so;
    so.pattern = o["sites"].as<std::string>();
    so.skip = o["skip"].as<bool>();
    if (o["weights"]) so.weights = spec_options.decode(o["weights"], s.quant.weights);
    if (o["activations"]) so.activations = spec_options.decode(o["activations"], s.quant.activations);
    if (o["kv"]) so.kv = spec_options.decode(o["kv"], s.quant.kv);
    s.quant.overrides.push_back(so);
  }
  for (const auto& n : r["eval"]) s.eval.push_back(parse_component(n));
  s.results = r["results"].as<std::string>();
  s.export_dir = r["export"] ? r["export"].as<std::string>() : "";
  return s;
}

// ---- paths ---------------------------------------------------------------------------------

// Rewrites every path value so it is relative to the experiment file's folder, whichever file
// (or --set flag: relative to the working directory) wrote it. The stored form stays relative, so
// the config hash does not depend on where the repository is checked out.
void rebase_paths(config::Document& doc, const fs::path& experiment_dir) {
  std::vector<config::KeyPath> keys = {{"model", "path"}, {"calibration", "data"}, {"results"}, {"export"}};
  YAML::Node eval = doc.find({"eval"});
  if (eval && eval.IsSequence())
    for (size_t i = 0; i < eval.size(); ++i) keys.push_back({"eval", config::index_segment(i), "data"});
  for (const auto& key : keys) {
    YAML::Node node = doc.find(key);
    if (!node || !node.IsScalar()) continue;
    std::string value = node.Scalar();
    if (value.empty() || value[0] == '/' || value[0] == '~') continue;
    const config::SourcePosition* pos = doc.value_position(key);
    fs::path source_dir = (pos && pos->file != config::kCommandLine && !pos->file.empty())
                              ? fs::absolute(fs::path(pos->file)).parent_path()
                              : fs::current_path();
    fs::path target = (source_dir / value).lexically_normal();
    node = target.lexically_relative(experiment_dir).generic_string();
  }
}

// ---- seeds --------------------------------------------------------------------------------

// `seeds: [0, 1, 2]` repeats each variant once per seed with calibration.seed set to it (positioned
// at the seed, so errors point there). A malformed `seeds` is left to validation to report.
std::vector<config::Variant> expand_seeds(std::vector<config::Variant> variants) {
  std::vector<config::Variant> out;
  for (auto& variant : variants) {
    const YAML::Node seeds = variant.document.find({kSeedsKey});
    if (!seeds.IsSequence() || seeds.size() == 0) {
      out.push_back(std::move(variant));
      continue;
    }
    for (size_t i = 0; i < seeds.size(); ++i) {
      config::Variant copy{variant.name, variant.document.clone()};
      const config::KeyPath at{kSeedsKey, config::index_segment(i)};
      const std::string problem =
          config::assign(copy.document, {"calibration", "seed"}, seeds[i], copy.document.locate(at));
      if (!problem.empty()) throw ConfigError(cat(copy.document.locate(at).describe(), ": seeds: ", problem));
      const std::string seed = seeds[i].IsScalar() ? seeds[i].Scalar() : std::to_string(i);
      copy.name = (variant.name.empty() ? "" : variant.name + "/") + "seed=" + seed;
      out.push_back(std::move(copy));
    }
  }
  return out;
}

// The name a run has without its seed ("w4/seed=1" -> "w4"), for grouping runs over seeds.
std::string seed_group(const std::string& variant) {
  const auto at = variant.rfind("seed=");
  if (at == std::string::npos || (at != 0 && variant[at - 1] != '/')) return "";
  return at == 0 ? "" : variant.substr(0, at - 1);
}

}  // namespace

const config::Schema& experiment_schema() {
  static const Schema schema = build_experiment_schema();
  return schema;
}

std::vector<ExperimentSpec> load_experiment(const std::string& path, const std::vector<std::string>& overrides,
                                            bool merge_duplicate_runs, const std::vector<std::string>& forced) {
  config::Document document = config::load_config(path);
  config::apply_overrides(document, overrides);
  fs::path experiment_dir = fs::absolute(fs::path(path)).parent_path().lexically_normal();

  std::vector<ExperimentSpec> specs;
  std::string problems;
  ShapeCache shapes;
  const bool seeded = document.find({kSeedsKey}).IsDefined();
  for (auto& variant : expand_seeds(config::expand_variants(document))) {
    config::apply_overrides(variant.document, forced);
    try {
      config::substitute_variables(variant.document);
      rebase_paths(variant.document, experiment_dir);
      YAML::Node resolved = config::validate(variant.document, experiment_schema());
      // How a sweep is executed and which seeds it repeats over are not part of a run's config:
      // moving a sweep to a cluster, or adding a seed, keeps the run ids of the runs it had.
      const YAML::Node cluster = YAML::Clone(resolved[kClusterKey]);
      resolved.remove(kClusterKey);
      resolved.remove(kSeedsKey);
      ExperimentSpec spec = parse_spec(resolved);
      spec.cluster = cluster;
      if (seeded) {
        spec.seed_group = seed_group(variant.name);
        if (spec.seed_group.empty()) spec.seed_group = spec.name;
      }
      spec.variant = variant.name;
      spec.file = path;
      spec.base_dir = experiment_dir.string();
      spec.resolved_yaml = config::emit_yaml(resolved);
      spec.config_hash = config::config_hash(resolved);
      spec.run_id = spec.config_hash.substr(0, 16);
      spec.results = spec.resolve_path(spec.results);
      spec.key_positions = runtime_key_positions(variant.document);
      config::Diagnostics diagnostics(variant.document);
      check_experiment(spec, variant.document, diagnostics, shapes);
      diagnostics.throw_if_any();
      specs.push_back(std::move(spec));
    } catch (const ConfigError& e) {
      problems += (problems.empty() ? "" : "\n") +
                  (variant.name.empty() ? std::string() : "in run '" + variant.name + "':\n") + e.what();
    }
  }
  if (!problems.empty()) throw ConfigError(problems);
  std::vector<ExperimentSpec> unique;
  for (auto& spec : specs) {
    auto same = std::find_if(unique.begin(), unique.end(), [&](const ExperimentSpec& u) { return u.run_id == spec.run_id; });
    if (same == unique.end()) {
      unique.push_back(std::move(spec));
    } else if (!merge_duplicate_runs) {
      throw ConfigError(cat(path, ": runs '", same->run_name(), "' and '", spec.run_name(),
                            "' resolve to the same config (hash ", spec.run_id, "); remove one"));
    }
  }
  return unique;
}

}  // namespace abq::runner

#include "experiments/runner/run_experiment.h"

#include <fnmatch.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <iomanip>
#include <optional>
#include <sstream>
#include <set>
#include <filesystem>
#include <iostream>
#include <thread>

#include "evaluators/evaluator.h"
#include "evaluators/registry.h"
#include "experiments/runner/calibration_windows.h"
#include "experiments/runner/experiment_checks.h"
#include "experiments/runner/load_experiment.h"
#include "experiments/runner/results_table.h"
#include "experiments/runner/window_codec.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/sha256.h"
#include "framework/core/spellcheck.h"
#include "framework/core/stage_cache.h"
#include "framework/core/torch_compat.h"
#include "framework/model/site_names.h"
#include "framework/pipeline/cache_root.h"
#include "framework/pipeline/calibration_data.h"
#include "framework/pipeline/cpu_threads.h"
#include "framework/pipeline/experiment_spec.h"
#include "framework/pipeline/export_model.h"
#include "framework/pipeline/gguf_export.h"
#include "framework/packed/packed_gemm.h"
#include "framework/pipeline/model_loader.h"
#include "framework/pipeline/packed_execution.h"
#include "framework/pipeline/quantize_model.h"
#include "framework/pipeline/stop_request.h"
#include "framework/store/provenance.h"
#include "framework/store/results_store.h"

namespace abq::runner {
using pipeline::ComponentSpec;
using pipeline::ExperimentSpec;
using pipeline::ExportedQuant;
using pipeline::LoadedModel;
using pipeline::QuantizationReport;

namespace {

int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

// `cache_<stage>` and `seconds_<stage>` of a cached stage (stage_cache.h).
void record_stage_use(store::RunRecord& record, const std::string& stage, const StageUse& use) {
  record.attributes["cache_" + stage] = use.outcome;
  std::ostringstream seconds;
  seconds << std::setprecision(6) << use.seconds;
  record.attributes["seconds_" + stage] = seconds.str();
}

// Times one stage of a run and appends it to the record's timings table.
class StageTimer {
 public:
  StageTimer(store::RunRecord& record, std::string stage)
      : record_(record), stage_(std::move(stage)), start_(std::chrono::steady_clock::now()) {}
  ~StageTimer() {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    record_.timings.push_back({stage_, seconds, peak_rss_bytes()});
  }

 private:
  store::RunRecord& record_;
  std::string stage_;
  std::chrono::steady_clock::time_point start_;
};

// The calibration windows of a run, from the stage cache when a run of the same data, tokenizer
// and sampling drew them before (stage_cache.h); `hit` says which.
std::vector<torch::Tensor> calibration_windows(const ExperimentSpec& spec, const pipeline::LoadedModel& loaded,
                                               const std::string& data_sha256, const StageCache& cache, bool& hit) {
  const auto& c = spec.calibration;
  const std::string key = stage_key({"calibration_windows v1", data_sha256, c.source, loaded.tokenizer_sha256,
                                     std::to_string(c.samples), std::to_string(c.seqlen), std::to_string(c.seed)});
  std::optional<std::vector<std::vector<int64_t>>> drawn;
  if (auto bytes = cache.get("calibration_windows", key)) drawn = decode_windows(*bytes);
  hit = drawn.has_value();
  if (!hit) {
    drawn = pipeline::draw_calibration_windows(c.source, spec.resolve_path(c.data), *loaded.tokenizer, c.samples,
                                               c.seqlen, c.seed);
    cache.put("calibration_windows", key, encode_windows(*drawn));
  }
  std::vector<torch::Tensor> windows;
  for (const auto& w : *drawn)
    windows.push_back(torch::tensor(w, torch::kInt64).unsqueeze(0).to(loaded.model->device()));  // (1, T)
  return windows;
}

std::map<std::string, std::string> run_attributes(const ExperimentSpec& spec) {
  auto attrs = store::host_provenance();
  attrs["name"] = spec.run_name();
  attrs["experiment"] = spec.name;
  attrs["experiment_file"] = spec.file;
  attrs["config_yaml"] = spec.resolved_yaml;
  attrs["config_hash"] = spec.config_hash;
  attrs["seed"] = std::to_string(spec.seed);
  if (!spec.seed_group.empty()) {  // `seeds:` runs: averaged over seeds in results tables
    attrs["seed_group"] = spec.seed_group;
    attrs["calibration_seed"] = std::to_string(spec.calibration.seed);
  }
  attrs["libtorch"] = torch_version();
  attrs["device"] = spec.model.device;
  attrs["cuda"] = torch_cuda_available() ? "available" : "none";
  attrs["threads"] = std::to_string(torch::get_num_threads());
  return attrs;
}

// Writes the quantized model where `export` says ("{run}" -> run name); returns the folder.
// A path ending in .gguf is one GGUF file (pipeline/gguf_export.h); the model then runs with the
// exported weights (fp16 scales), so the run's metrics are those of the file.
std::string export_run(const ExperimentSpec& spec, model::LlamaModel& model, const QuantizationReport& report) {
  std::string dir = spec.resolve_path(spec.export_dir);
  for (size_t at = dir.find("{run}"); at != std::string::npos; at = dir.find("{run}"))
    dir.replace(at, 5, spec.run_name());
  const std::string dtype = spec.model.dtype == "float16" ? "float16" : "float32";
  if (pipeline::is_gguf_export_path(dir)) {
    if (!report.activations.empty())
      throw ConfigError(cat("export ", dir, ": a GGUF file holds weights only; this run also quantizes activations (",
                            report.setting, "); export to a folder, or set quant.activations.bits and quant.kv.bits to 16"));
    pipeline::export_gguf(model, report.weights, spec.model.source == "gguf" ? spec.resolve_path(spec.model.path) : "",
                          dir, dtype);
    const double change = pipeline::adopt_gguf_weights(model);
    log_info("exported the quantized model to ", dir, " (GGUF); its fp16 scales move the simulated weights by at most ",
             change);
    return dir;
  }
  pipeline::export_model(model, ExportedQuant{report.setting, report.activations}, dir, dtype);
  log_info("exported the quantized model to ", dir);
  return dir;
}

// An exported folder (abq_quant.json beside the weights): its activation quantizers go back in, so
// `abq eval` reproduces the run. Returns whether context reuse stays exact.
bool reinstall_exported(model::LlamaModel& model, const ExportedQuant& exported, const QuantizationReport& report,
                        store::RunRecord& record) {
  if (!report.activations.empty())
    throw ConfigError("the model folder is an exported quantized model (abq_quant.json) and the run quantizes "
                      "activations again; set quant.activations.bits and quant.kv.bits to 16");
  pipeline::install_activation_specs(model, exported.activations);
  if (!model.streamed()) pipeline::drop_fused_activation_hooks(model);  // a packed checkpoint quantizes in the kernel call
  record.attributes["setting"] = exported.setting;
  bool exact = true;
  for (const auto& [site, spec] : exported.activations) exact = exact && pipeline::token_local(spec);
  return exact;
}

// The first weight of the model holding a NaN or Inf, by name, or "" (blocks of a streamed model
// are not resident and are not searched).
std::string first_nonfinite_weight(const model::LlamaModel& model) {
  auto bad = [](const torch::Tensor& t) { return t.defined() && !torch::isfinite(t).all().item<bool>(); };
  const auto& w = model.weights();
  if (bad(w.embed_tokens)) return "embed_tokens";
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const auto& block = w.layers[i];
    for (auto kind : model::all_linear_kinds()) {
      const auto& linear = block.linear(kind);
      if (bad(linear.weight) || bad(linear.bias)) return cat("layers.", i, ".", model::linear_name(kind));
    }
    if (bad(block.input_norm)) return cat("layers.", i, ".input_layernorm");
    if (bad(block.post_attention_norm)) return cat("layers.", i, ".post_attention_layernorm");
  }
  if (bad(w.norm)) return "norm";
  if (bad(w.lm_head)) return "lm_head";
  return "";
}

// A metric that is NaN or Inf (a diverged model, an overflowing perplexity) fails the run: stored
// as complete, it would read as a result.
void require_finite(const evaluators::Metric& m, const ComponentSpec& eval, const model::LlamaModel& model) {
  if (std::isfinite(m.value)) return;
  const std::string weight = first_nonfinite_weight(model);
  throw Error(cat("eval '", eval.type, "' gave ", m.metric, " = ", m.value, " on ", m.dataset, " (", m.protocol, "); ",
                  weight.empty() ? "every weight is finite, so the forward overflowed"
                                 : "the first non-finite weight is " + weight));
}

// An evaluator that stops on a non-finite score is told which weight to blame, when one is.
std::vector<evaluators::Metric> evaluate_naming_nonfinite_weights(evaluators::Evaluator& evaluator,
                                                                  const evaluators::EvalContext& context,
                                                                  const model::LlamaModel& model) {
  try {
    return evaluator.evaluate(context);
  } catch (const Error& e) {
    const std::string weight = first_nonfinite_weight(model);
    if (weight.empty()) throw;
    throw Error(cat(e.what(), "\nthe first non-finite weight is ", weight));
  }
}

// What protocol ids carry of a run's setting: the activation and KV bits, which change what is
// scored and how scoring may run (prefix reuse). The weight format is the result's subject, not
// the protocol's: W2 and W4 runs of one protocol share its id. "W4A8KV16g128*" -> "A8KV16",
// "W3.2A8KV16 mixed" -> "A8KV16".
std::string scoring_state(const std::string& setting) {
  const auto a = setting.find('A');
  if (a == std::string::npos) return setting;
  return setting.substr(a, setting.find_first_of("g* ", a) - a);
}

// Six significant digits, as the store's other numeric attributes.
std::string number_text(double x) {
  std::ostringstream out;
  out << std::setprecision(6) << x;
  return out.str();
}

// What a measuring allocation scored and chose: the `allocation` table (group x candidate: cost,
// score, chosen), the predicted Pareto curve and the attributes (measure, solver, budget,
// predicted loss, measurement and solve times, whether the scores came from the cache).
void store_allocation_record(const methods::AllocationRecord& a, store::RunRecord& record) {
  if (a.rows.empty()) return;
  std::vector<std::string> group, sites, candidate;
  std::vector<double> bits, latency, score;
  std::vector<int64_t> chosen;
  for (const auto& r : a.rows) {
    group.push_back(r.group);
    sites.push_back(r.sites);
    candidate.push_back(r.candidate);
    bits.push_back(r.storage_bits);
    latency.push_back(r.latency_us);
    score.push_back(r.score);
    chosen.push_back(r.chosen);
  }
  store::Table t;
  t.add_strings("group", group).add_strings("sites", sites).add_strings("candidate", candidate);
  t.add_f64("storage_bits", bits).add_f64("latency_us", latency).add_f64("score", score).add_i64("chosen", chosen);
  record.tables["allocation"] = t;
  if (!a.pareto.empty()) {
    std::vector<double> budget, loss;
    for (const auto& [b, l] : a.pareto) {
      budget.push_back(b);
      loss.push_back(l);
    }
    store::Table p;
    p.add_f64("budget", budget).add_f64("predicted_loss", loss);
    record.tables["allocation_pareto"] = p;
  }
  for (const auto& [k, v] : a.attributes) record.attributes[k] = v;
  for (const auto& [k, v] : a.numbers) record.attributes[k] = number_text(v);
}

// All checkpoints of one run, whatever model they were made from; removed once the run is stored.
std::string run_checkpoints(const ExperimentSpec& spec, const std::string& results_path) {
  return results_path + ".calib/" + spec.run_id;
}

// The run id is the config's hash, which names the model by its path only: the checkpoints of a
// model replaced at that path go to a directory of their own, keyed by the model files' sha256.
std::string checkpoint_dir(const ExperimentSpec& spec, const std::string& results_path, const std::string& model_sha256) {
  return run_checkpoints(spec, results_path) + "/model-" + model_sha256.substr(0, 16);
}

store::RunRecord execute_run(const ExperimentSpec& spec, const std::string& results_path, const StageCache& cache,
                             store::RunRecord record) {
  torch::manual_seed(spec.seed);
  LoadedModel loaded;
  {
    StageTimer t(record, "load_model");
    loaded = pipeline::load_model(spec);
  }
  record.attributes["model_sha256"] = loaded.model_sha256;
  record.attributes["tokenizer_sha256"] = loaded.tokenizer_sha256;
  record.attributes["weights"] = loaded.weights_note;
  auto& model = *loaded.model;
  // Known only now for a checkpoint validation could not read; before any calibration work.
  require_weight_groups_fit(spec, model.config());

  std::vector<torch::Tensor> calibration;
  StageUse windows_use;  // n/a without calibration data
  if (!spec.calibration.data.empty()) {
    StageTimer t(record, "calibration_data");
    const auto started = std::chrono::steady_clock::now();
    const std::string data_sha256 = sha256_file(spec.resolve_path(spec.calibration.data));
    bool hit = false;
    calibration = calibration_windows(spec, loaded, data_sha256, cache, hit);
    windows_use = {cache.enabled() ? (hit ? "hit" : "miss") : "off",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
    record.attributes["calibration_data_sha256"] = data_sha256;
    record.attributes["calibration_source"] = spec.calibration.source;
  }
  record_stage_use(record, "calibration_windows", windows_use);
  bool prefix_reuse = true;
  {
    StageTimer t(record, "quantize");
    // Per-block checkpoints live beside the results file, keyed by run id and model digest, until
    // the run is stored.
    auto report = pipeline::quantize_model(model, spec.quant, calibration,
                                           checkpoint_dir(spec, results_path, loaded.model_sha256),
                                           spec.calibration.streams_on_host, loaded.model_sha256, &cache);
    for (const auto& [stage, use] : report.stages) record_stage_use(record, stage, use);
    record.sites = report.sites;
    record.metrics.insert(record.metrics.end(), report.checks.begin(), report.checks.end());
    record.attributes["setting"] = report.setting;
    record.attributes["allocation"] = spec.quant.allocation.type;
    record.attributes["avg_weight_bits"] = number_text(report.plan_summary.weight_bits);
    record.attributes["avg_weight_bits_with_scales"] = number_text(report.plan_summary.weight_bits_with_scales);
    record.attributes["weight_parameters"] = std::to_string(report.plan_summary.weight_parameters);
    record.attributes["model_bytes"] =
        std::to_string(int64_t(std::ceil(methods::model_storage_bytes(report.plan_summary, model.config()))));
    record.tables["plan"] = report.plan;
    store_allocation_record(report.allocation, record);
    prefix_reuse = report.prefix_reuse_exact;
    if (!spec.export_dir.empty()) {
      record.attributes["export"] = export_run(spec, model, report);
    } else if (ExportedQuant exported; spec.model.source == "hf" &&
               pipeline::read_exported_quant(spec.resolve_path(spec.model.path), exported)) {
      prefix_reuse = reinstall_exported(model, exported, report, record);
    }
    if (report.calibration_blocks.rows() > 0) record.tables["calibration_blocks"] = report.calibration_blocks;
    if (spec.quant.execution == pipeline::kExecutionPacked) {
      record.attributes["execution"] = spec.quant.execution;
      record.attributes["packed_backend"] = packed::packed_gemm_backend();
      record.tables["packed"] = report.packed;
    }
  }
  pipeline::stop_if_requested("after quantization, before evaluation");
  std::vector<std::unique_ptr<evaluators::Evaluator>> evals;
  bool wants_reference = false;
  for (const auto& e : spec.eval) {
    evals.push_back(evaluators::make_evaluator(e.type, e.options, [&](const std::string& p) { return spec.resolve_path(p); }));
    wants_reference = wants_reference || evals.back()->uses_reference();
  }
  // Logit metrics (KL, top-1 agreement vs the fp model) need the unquantized model beside the
  // quantized one; it is loaded only when the run quantizes something and an evaluator asks.
  std::unique_ptr<model::LlamaModel> reference;
  if (wants_reference && record.attributes["setting"] != "W16A16KV16") {
    StageTimer t(record, "load_reference");
    reference = std::move(pipeline::load_model(spec).model);
  }
  evaluators::EvalContext context{model, *loaded.tokenizer, loaded.tokenizer_sha256, scoring_state(record.attributes["setting"]),
                                  reference.get(), loaded.model_sha256};
  context.prefix_reuse = prefix_reuse;
  for (size_t i = 0; i < evals.size(); ++i) {
    pipeline::stop_if_requested(cat("before evaluator ", i + 1, " of ", evals.size()));
    StageTimer t(record, "eval:" + spec.eval[i].type);
    for (const auto& m : evaluate_naming_nonfinite_weights(*evals[i], context, model)) {
      require_finite(m, spec.eval[i], model);
      record.metrics.push_back({m.metric, m.dataset, m.protocol, m.value, m.stderr_value, m.n});
    }
    // Per-example records, so any metric can be recomputed offline; prefixed by the evaluator's
    // position because two evaluators may produce the same table name.
    for (auto& [name, table] : evals[i]->tables()) record.tables["eval" + std::to_string(i) + "_" + name] = table;
  }
  return record;
}

// The runs named by id (or a unique id prefix), in the experiment's order.
std::vector<ExperimentSpec> select_run_ids(std::vector<ExperimentSpec> specs, const std::vector<std::string>& ids,
                                           const std::string& experiment_file) {
  std::set<std::string> chosen;
  for (const auto& id : ids) {
    std::vector<std::string> matches;
    for (const auto& s : specs)
      if (s.run_id.rfind(id, 0) == 0) matches.push_back(s.run_id);
    if (matches.empty()) throw ConfigError(cat("--run-id '", id, "' is not a run of ", experiment_file, " (abq config lists them)"));
    if (matches.size() > 1) throw ConfigError(cat("--run-id '", id, "' matches ", matches.size(), " runs of ", experiment_file, ": ", join(matches)));
    chosen.insert(matches.front());
  }
  std::vector<ExperimentSpec> kept;
  for (auto& s : specs)
    if (chosen.count(s.run_id)) kept.push_back(std::move(s));
  return kept;
}

void print_summary(const store::ResultsStore& results, const std::vector<ExperimentSpec>& specs) {
  std::vector<store::RunRecord> records;
  std::set<std::string> notes;
  for (const auto& spec : specs) {
    if (!results.status(spec.run_id)) continue;
    records.push_back(results.read_run(spec.run_id));
    std::string weights = run_attribute(records.back(), "weights");
    if (!weights.empty()) notes.insert(weights);
  }
  // The headline metrics; `abq show` lists every stored one.
  static const std::set<std::string> headline = {"ppl", "acc", "acc_norm", "kl_mean", "top1_agreement"};
  auto table = metrics_table(records, [](const store::MetricRow& m) { return headline.count(m.metric) > 0; });
  std::cout << "\n" << table.text;
  for (const auto& n : notes) std::cout << "source weights: " << n << "\n";
  std::cout << "results: " << results.path() << "\n";
}

}  // namespace

RunSummary run_experiment(const std::string& experiment_file, const RunOptions& options) {
  log_info("compute: ", pipeline::configure_cpu_threads(options.threads).description);
  auto specs = load_experiment(experiment_file, options.overrides, options.merge_duplicate_runs, options.forced);
  if (!options.only.empty()) {
    std::vector<ExperimentSpec> kept;
    for (auto& s : specs)
      if (fnmatch(options.only.c_str(), s.run_name().c_str(), 0) == 0) kept.push_back(std::move(s));
    if (kept.empty()) throw ConfigError(cat("--only '", options.only, "' matches no run of ", experiment_file));
    specs = std::move(kept);
  }
  if (!options.run_ids.empty()) specs = select_run_ids(std::move(specs), options.run_ids, experiment_file);

  RunSummary summary;
  summary.results_path = options.results_path.empty() ? specs.front().results : options.results_path;
  store::ResultsStore results(summary.results_path);
  results.set_sole_writer(options.sole_writer);
  const StageCache cache(pipeline::stage_cache_dir(options.stage_cache));
  log_info("stage cache: ", cache.enabled() ? cache.dir() : "off");
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    auto status = results.status(spec.run_id);
    std::string label = cat("[", i + 1, "/", specs.size(), "] ", spec.run_name(), " (", spec.run_id, ")");
    if (status == store::RunStatus::complete) {
      log_info(label, ": complete in ", summary.results_path, ", skipped");
      ++summary.skipped;
      continue;
    }
    log_info(label, status ? ": resuming an incomplete run" : "");
    store::RunRecord record;
    record.run_id = spec.run_id;
    record.attributes = run_attributes(spec);
    results.begin_run(spec.run_id, record.attributes);
    try {
      pipeline::stop_if_requested("before it started");
      record = execute_run(spec, summary.results_path, cache, record);
      results.finish_run(record);
      std::error_code ignored;
      std::filesystem::remove_all(run_checkpoints(spec, summary.results_path), ignored);
      std::filesystem::remove(summary.results_path + ".calib", ignored);  // only when empty
      ++summary.completed;
    } catch (const pipeline::StopRequested& stop) {
      // Not a failure: the run stays incomplete, owned by nobody, and its checkpoints stay.
      log_warn(label, ": ", stop.what(), "; left incomplete in ", summary.results_path, " to be resumed");
      results.release_run(spec.run_id, stop.what());
      ++summary.interrupted;
      break;
    } catch (const std::exception& e) {
      // One failed run must not lose the others: record it and go on.
      log_message(LogLevel::error, cat(label, " failed:\n", e.what()));
      try {
        results.fail_run(spec.run_id, e.what());
      } catch (const Error& store_error) {
        // Typically the disk that made finish_run fail: say both, and what the store now holds.
        throw Error(cat(label, " failed, and recording the failure failed too, so the run stays `running` in ",
                        summary.results_path, " (the next abq run resumes it; earlier runs are intact).\n",
                        "the run failed with: ", e.what(), "\nrecording the failure failed with: ",
                        store_error.what()));
      }
      ++summary.failed;
    }
  }
  print_summary(results, specs);
  return summary;
}

}  // namespace abq::runner

#include "experiments/sweep/sweep_plan.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "experiments/runner/load_experiment.h"
#include "experiments/sweep/subprocess.h"
#include "framework/core/error.h"
#include "framework/store/results_store.h"

namespace abq::sweep {
namespace fs = std::filesystem;

const char* class_name(ResourceClass c) { return c == ResourceClass::gpu ? "gpu" : "cpu"; }

std::vector<const SweepRun*> SweepPlan::with_state(RunState state) const {
  std::vector<const SweepRun*> out;
  for (const auto& r : runs)
    if (r.state == state) out.push_back(&r);
  return out;
}

std::string sweep_folder(const std::string& results) { return results + ".sweep"; }

namespace {

// A flag's text as the value of a field of `kind`, checked as the YAML key would be.
config::OptionValue flag_value(const std::string& key, const std::string& text, const config::Schema& schema) {
  const std::string flag = "--" + key;
  switch (schema.kind()) {
    case config::Schema::Kind::integer: {
      size_t used = 0;
      int64_t v = 0;
      try {
        v = std::stoll(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != text.size() || text.empty()) throw ConfigError(cat(flag, ": '", text, "' is not an integer"));
      if ((schema.has_min() && double(v) < schema.min_value()) || (schema.has_max() && double(v) > schema.max_value()))
        throw ConfigError(cat(flag, ": ", v, " is out of range ", schema.range_text()));
      return v;
    }
    case config::Schema::Kind::enumeration: {
      for (const auto& word : schema.values())
        if (word == text) return text;
      std::string words;
      for (const auto& w : schema.values()) words += (words.empty() ? "" : ", ") + w;
      throw ConfigError(cat(flag, ": '", text, "' is not one of ", words));
    }
    default:
      return text;
  }
}

runner::ClusterOptions cluster_settings(const YAML::Node& from_file,
                                        const std::vector<std::pair<std::string, std::string>>& flags) {
  const auto& options = runner::cluster_options();
  runner::ClusterOptions c = options.decode(from_file);
  std::vector<std::pair<std::string, config::OptionValue>> values;
  for (const auto& [key, text] : flags) {
    const config::Schema* schema = nullptr;
    for (const auto& f : options.fields())
      if (f.key == key) schema = &f.schema;
    if (!schema) throw ConfigError(cat("--", key, " is not a cluster option"));
    values.emplace_back(key, flag_value(key, text, *schema));
  }
  return options.from_values(values, c);
}

}  // namespace

SweepPlan plan_sweep(const std::string& experiment_file, const std::vector<std::string>& overrides,
                     const std::string& results_override,
                     const std::vector<std::pair<std::string, std::string>>& cluster_flags) {
  const auto specs = runner::load_experiment(experiment_file, overrides);
  SweepPlan plan;
  plan.experiment_file = fs::absolute(experiment_file).lexically_normal().string();
  plan.working_dir = fs::current_path().string();
  plan.overrides = overrides;
  plan.results = fs::absolute(results_override.empty() ? specs.front().results : results_override).lexically_normal().string();
  plan.folder = sweep_folder(plan.results);
  plan.abq = this_executable();
  plan.cluster = cluster_settings(specs.front().cluster, cluster_flags);

  std::optional<store::ResultsStore> merged;
  if (fs::exists(plan.results)) merged.emplace(plan.results, store::OpenMode::existing);
  for (const auto& spec : specs) {
    SweepRun run;
    run.run_id = spec.run_id;
    run.name = spec.run_name();
    run.resources = spec.model.device == "cpu" ? ResourceClass::cpu : ResourceClass::gpu;
    if (merged && merged->status(spec.run_id) == store::RunStatus::complete) {
      run.state = RunState::complete;
    } else if (fs::exists(plan.task_store(spec.run_id)) &&
               store::ResultsStore(plan.task_store(spec.run_id), store::OpenMode::existing).status(spec.run_id) ==
                   store::RunStatus::complete) {
      run.state = RunState::merge_pending;
    }
    plan.runs.push_back(run);
  }
  return plan;
}

void write_sweep_folder(const SweepPlan& plan) {
  for (const char* sub : {"tasks", "logs"}) {
    std::error_code ec;
    fs::create_directories(plan.folder + "/" + sub, ec);
    if (ec) throw Error(cat("cannot create '", plan.folder, "/", sub, "': ", ec.message()));
  }
  std::ostringstream text;
  for (const auto& r : plan.runs) text << r.run_id << "\t" << r.name << "\t" << class_name(r.resources) << "\n";
  const std::string tmp = plan.runs_file() + ".tmp";
  {
    std::ofstream out(tmp);
    out << text.str();
    if (!out.flush()) throw Error(cat("cannot write '", tmp, "'"));
  }
  fs::rename(tmp, plan.runs_file());
}

std::vector<std::string> task_command(const SweepPlan& plan, const std::string& run_id, const std::string& task_store,
                                      int threads, bool requeue) {
  std::vector<std::string> argv = {plan.abq, "run", plan.experiment_file};
  for (const auto& o : plan.overrides) {
    argv.push_back("--set");
    argv.push_back(o);
  }
  for (const std::string& a : {std::string("--run-id"), run_id, std::string("--results"), task_store,
                               std::string("--threads"), std::to_string(threads)})
    argv.push_back(a);
  argv.push_back("--sole-writer");  // the task file is this run's alone
  argv.push_back("--stage-cache");
  argv.push_back(plan.folder + "/cache");
  if (requeue) {
    argv.push_back("--stop-on");
    argv.push_back("USR1");
    argv.push_back("--requeue");
  }
  return argv;
}

std::vector<std::string> existing_task_stores(const SweepPlan& plan) {
  std::vector<std::string> out;
  for (const auto& r : plan.runs)
    if (fs::exists(plan.task_store(r.run_id))) out.push_back(plan.task_store(r.run_id));
  return out;
}

std::vector<ListedRun> read_runs_file(const std::string& path) {
  std::vector<ListedRun> runs;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    ListedRun r;
    std::getline(fields, r.run_id, '\t');
    std::getline(fields, r.name, '\t');
    std::getline(fields, r.resources, '\t');
    if (!r.run_id.empty()) runs.push_back(r);
  }
  return runs;
}

}  // namespace abq::sweep

// abq sweep EXPERIMENT.yaml: the experiment's runs through a backend, local worker processes
// (--jobs N) or Slurm job arrays (--backend slurm), each run into its own task file, merged into
// the results file. Runs already complete are skipped, so a re-submission does only what is missing.
#include <iostream>
#include <sstream>

#include "experiments/cli/parse_args.h"
#include "experiments/runner/cluster_options.h"
#include "experiments/sweep/local_backend.h"
#include "experiments/sweep/merge_report.h"
#include "experiments/sweep/slurm_backend.h"
#include "experiments/sweep/sweep_plan.h"
#include "experiments/sweep/sweep_status.h"
#include "framework/config/options.h"
#include "framework/core/error.h"

namespace abq::cli {
namespace {

// "--max-parallel" for the key "max_parallel".
std::string flag_name(const std::string& key) {
  std::string flag = key;
  for (auto& c : flag)
    if (c == '_') c = '-';
  return flag;
}

// One option per cluster setting, documented from its declaration (runner/cluster_options.h).
void add_cluster_options(po::options_description& options, std::vector<std::pair<std::string, std::string>>& given) {
  const runner::ClusterOptions defaults;
  const auto& set = runner::cluster_options();
  for (const auto& [key, value] : set.values(defaults)) {
    const config::Schema* schema = nullptr;
    for (const auto& f : set.fields())
      if (f.key == key) schema = &f.schema;
    const std::string text = config::option_value_text(value);
    const std::string doc = schema->doc() + " [cluster." + key + "; default " + (text.empty() ? "\"\"" : text) + "]";
    options.add_options()(flag_name(key).c_str(),
                          po::value<std::string>()->notifier([&given, key = key](const std::string& v) {
                            given.emplace_back(key, v);
                          }),
                          doc.c_str());
  }
}

// --seeds 0,1,2 -> --set seeds=[0,1,2].
std::string seeds_override(const std::string& list) { return "seeds=[" + list + "]"; }

void print_jobs(const std::vector<sweep::SlurmJob>& jobs, bool dry_run) {
  for (const auto& j : jobs) {
    std::cout << (dry_run ? "  would submit " : "  submitted job ") << j.job_id << (j.job_id.empty() ? "" : " ");
    if (j.tasks > 0) std::cout << "array of " << j.tasks << " task(s), runs from line " << j.offset + 1 << ": ";
    else std::cout << "merge (afterany the arrays): ";
    std::cout << j.script << "\n";
  }
}

}  // namespace

int cmd_sweep(const Args& args) {
  po::options_description options("options");
  std::string file, results, seeds;
  std::vector<std::string> overrides;
  std::vector<std::pair<std::string, std::string>> cluster_flags;
  bool dry_run = false;
  options.add_options()
      ("file", po::value(&file)->required(), "experiment YAML file")
      ("set", po::value(&overrides)->composing(), "override a config key: --set quant.weights.bits=4 (repeatable)")
      ("results", po::value(&results), "results file the runs are merged into (default: the experiment's `results`); "
                                        "the sweep's files go to RESULTS.sweep/")
      ("seeds", po::value(&seeds), "repeat every run over these calibration seeds: --seeds 0,1,2 (as `seeds:`)")
      ("dry-run", po::bool_switch(&dry_run), "list the runs and write the scripts, run and submit nothing");
  add_cluster_options(options, cluster_flags);
  po::variables_map values;
  if (!parse_args("sweep", "EXPERIMENT.yaml [--backend local|slurm] [--jobs N] [--set key=value ...]", args, options,
                  values, "file"))
    return kExitOk;
  if (!seeds.empty()) overrides.push_back(seeds_override(seeds));

  sweep::SweepPlan plan = sweep::plan_sweep(file, overrides, results, cluster_flags);
  const auto todo = plan.with_state(sweep::RunState::todo);
  const auto pending = plan.with_state(sweep::RunState::merge_pending);
  std::cout << "sweep " << plan.experiment_file << ": " << plan.runs.size() << " run(s), "
            << plan.with_state(sweep::RunState::complete).size() << " complete in " << plan.results << ", "
            << pending.size() << " complete in their task files, " << todo.size() << " to do (backend "
            << runner::backend_name(plan.cluster.backend) << ")\n";
  if (dry_run)
    for (const auto* r : todo) std::cout << "  to do: " << r->name << " (" << r->run_id << ", " << sweep::class_name(r->resources) << ")\n";
  sweep::write_sweep_folder(plan);
  if (todo.empty()) {
    if (!pending.empty() && !dry_run) {
      auto summary = sweep::merge_and_report(sweep::existing_task_stores(plan), plan.results, plan.runs_file(), std::cout);
      return summary.failed + summary.missing > 0 ? kExitFailure : kExitOk;
    }
    std::cout << "nothing to do\n";
    return kExitOk;
  }
  if (plan.cluster.backend == runner::SweepBackend::local) {
    if (dry_run) return kExitOk;
    auto summary = sweep::run_local(plan);
    return summary.failed + summary.missing > 0 ? kExitFailure : kExitOk;
  }
  if (!dry_run) {
    // Tasks of an earlier submission still queued would run the same runs twice.
    const auto queued = sweep::queued_tasks(sweep::read_jobs_file(plan.folder));
    if (!queued.empty())
      throw Error(cat(queued.size(), " job(s) of this sweep are still queued or running (", queued.begin()->first,
                      ", ...); wait for them (abq status ", plan.results, ") or scancel them, then submit again"));
  }
  const auto jobs = sweep::submit_slurm(plan, dry_run);
  print_jobs(jobs, dry_run);
  if (!dry_run)
    std::cout << "follow with `abq status " << plan.results << "`; task logs in " << plan.folder << "/logs\n";
  return kExitOk;
}

}  // namespace abq::cli

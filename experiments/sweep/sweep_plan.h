// A sweep: the runs of an experiment file (as `abq run` expands them), where each one stands, and
// the files that execute them. Everything lives in a folder next to the results file:
//
//   <results>.sweep/
//     runs.tsv             every run of the sweep: run id, name, resource class (the merge and
//                          `abq status` read it)
//     tasks/<run id>.h5    one results file per run, written by the process that runs it (no
//                          file is shared between writers)
//     logs/                one log per task
//     cache/               the stage cache the tasks share (framework/core/stage_cache.h)
//     <class>.runs         (slurm) the runs of one job array, one per line; task i of chunk k runs
//                          line k * chunk + i + 1
//     <class>-<k>.sbatch, merge.sbatch, jobs.tsv   (slurm, slurm_backend.h)
//
// A run complete in the results file, or in its task file, is done and never run again; so
// re-submitting a sweep runs only what is missing.
#pragma once

#include <string>
#include <vector>

#include "experiments/runner/cluster_options.h"

namespace abq::sweep {

/// Runs on a GPU and on CPUs are different job arrays (different resources).
enum class ResourceClass { cpu, gpu };
const char* class_name(ResourceClass c);

enum class RunState { todo, complete, merge_pending };  // merge_pending: complete in its task file only

struct SweepRun {
  std::string run_id;
  std::string name;
  ResourceClass resources = ResourceClass::cpu;
  RunState state = RunState::todo;
};

struct SweepPlan {
  std::string experiment_file;         // absolute
  std::string working_dir;             // where `abq sweep` ran (relative --set paths resolve there)
  std::vector<std::string> overrides;  // --set
  std::string results;                 // the merged results file (absolute)
  std::string folder;                  // <results>.sweep
  std::string abq;                     // the abq executable the tasks run
  runner::ClusterOptions cluster;
  std::vector<SweepRun> runs;          // every run, in the experiment's order

  std::string task_store(const std::string& run_id) const { return folder + "/tasks/" + run_id + ".h5"; }
  std::string runs_file() const { return folder + "/runs.tsv"; }
  std::vector<const SweepRun*> with_state(RunState state) const;
};

/// `cluster_flags`: `--<option>` values given on the command line (key as declared in
/// cluster_options(), value as text), laid over the experiment's `cluster:` key. Throws
/// abq::ConfigError for a bad experiment or option value.
SweepPlan plan_sweep(const std::string& experiment_file, const std::vector<std::string>& overrides,
                     const std::string& results_override,
                     const std::vector<std::pair<std::string, std::string>>& cluster_flags);

/// Writes runs.tsv and creates tasks/ and logs/.
void write_sweep_folder(const SweepPlan& plan);

/// The command that runs one run into `task_store` with `threads` threads (0: every core);
/// `requeue` adds the preemption handling of a Slurm task (USR1: checkpoint, release, requeue).
std::vector<std::string> task_command(const SweepPlan& plan, const std::string& run_id, const std::string& task_store,
                                      int threads, bool requeue);

/// The task files of `plan` that exist.
std::vector<std::string> existing_task_stores(const SweepPlan& plan);

/// Reads runs.tsv of a sweep folder: (run id, name, class) rows; empty when it is missing.
struct ListedRun {
  std::string run_id, name, resources;
};
std::vector<ListedRun> read_runs_file(const std::string& path);

/// `<results>.sweep`.
std::string sweep_folder(const std::string& results);

}  // namespace abq::sweep

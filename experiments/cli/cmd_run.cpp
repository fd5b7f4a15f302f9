// abq run EXPERIMENT.yaml: every run of the experiment, skipping runs already complete in its store.
// With --stop-on SIGNAL, that signal stops the run resumably (pipeline/stop_request.h); with
// --requeue the Slurm job it runs in is then requeued (how a sweep's task survives its time limit).
#include <signal.h>

#include <cstring>
#include <iostream>
#include <map>

#include "experiments/cli/parse_args.h"
#include "experiments/runner/run_experiment.h"
#include "experiments/sweep/slurm_backend.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/core/progress.h"
#include "framework/pipeline/stop_request.h"

namespace abq::cli {
namespace {

void on_stop_signal(int) { pipeline::request_stop(); }

void install_stop_signal(const std::string& name) {
  static const std::map<std::string, int> signals = {{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM},
                                                     {"INT", SIGINT},   {"HUP", SIGHUP}};
  std::string key = name.rfind("SIG", 0) == 0 ? name.substr(3) : name;
  auto it = signals.find(key);
  if (it == signals.end()) throw ConfigError(cat("--stop-on: '", name, "' is not one of USR1, USR2, TERM, INT, HUP"));
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // system calls in flight go on; the run stops at its next checkpoint
  if (sigaction(it->second, &action, nullptr) != 0) throw Error(cat("cannot handle SIG", key, ": ", std::strerror(errno)));
}

}  // namespace

int cmd_run(const Args& args) {
  po::options_description options("options");
  std::string file, stop_on;
  bool requeue = false;
  runner::RunOptions run;
  options.add_options()
      ("file", po::value(&file)->required(), "experiment YAML file")
      ("set", po::value(&run.overrides)->composing(), "override a config key: --set quant.weights.bits=4 (repeatable)")
      ("results", po::value(&run.results_path), "results file (default: the experiment's `results` key)")
      ("only", po::value(&run.only), "run only variants whose name matches this glob")
      ("run-id", po::value(&run.run_ids)->composing(), "run only the run with this id (or unique id prefix; repeatable; `abq config` lists them)")
      ("threads", po::value(&run.threads)->default_value(0), "CPU threads for LibTorch and the BLAS (0: every core this process may use)")
      ("stop-on", po::value(&stop_on), "on this signal (USR1, USR2, TERM, INT, HUP) stop after the current calibration "
                                       "block (or before the next stage) and leave the run incomplete, to be resumed from "
                                       "its checkpoint by the next abq run")
      ("stage-cache", po::value(&run.stage_cache), "directory of cached stage results shared between runs "
                                                   "(calibration windows, activation statistics, the fp block chain), "
                                                   "content-addressed (default: $ABQ_CACHE_DIR/stages, else "
                                                   "~/.cache/abq/stages; ABQ_CACHE_DIR=off turns all caching off); "
                                                   "`abq sweep` gives its tasks RESULTS.sweep/cache")
      ("sole-writer", po::bool_switch(&run.sole_writer), "this process is the only one that runs these runs in the "
                                                          "results file (a sweep's task): a run left `running` on another "
                                                          "host is resumed here instead of refused")
      ("requeue", po::bool_switch(&requeue), "with --stop-on: then requeue the Slurm job this process runs in (scontrol requeue)")
      ("quiet,q", po::bool_switch(), "no progress output");
  po::variables_map values;
  if (!parse_args("run", "EXPERIMENT.yaml [--set key=value ...]", args, options, values, "file")) return kExitOk;
  if (requeue && stop_on.empty()) throw ConfigError("--requeue needs --stop-on SIGNAL (the signal that asks for it)");
  if (values["quiet"].as<bool>()) {
    Progress::set_enabled(false);
    set_log_level(LogLevel::warn);
  }
  if (!stop_on.empty()) install_stop_signal(stop_on);
  runner::RunSummary summary = runner::run_experiment(file, run);
  if (summary.interrupted > 0) {
    if (!requeue) {
      std::cerr << "abq run: stopped on SIG" << stop_on << "; the run is incomplete in " << summary.results_path
                << ": run the same command again to resume it\n";
      return kExitFailure;
    }
    // Said before the requeue: Slurm ends the job step as soon as the requeue is accepted, so a line
    // written after it may never reach the job's log.
    std::cerr << "abq run: stopped on SIG" << stop_on << "; requeueing this job, which resumes from its checkpoint\n"
              << std::flush;
    sweep::requeue_this_job();
    return kExitFailure;
  }
  return summary.failed > 0 ? kExitFailure : kExitOk;
}

}  // namespace abq::cli

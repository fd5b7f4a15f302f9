// abq run EXPERIMENT.yaml: every run of the experiment, skipping runs already complete in its store.
#include <thread>

#include "experiments/cli/parse_args.h"
#include "experiments/runner/run_experiment.h"
#include "framework/core/log.h"
#include "framework/core/progress.h"

namespace abq::cli {

int cmd_run(const Args& args) {
  po::options_description options("options");
  std::string file;
  runner::RunOptions run;
  options.add_options()
      ("file", po::value(&file)->required(), "experiment YAML file")
      ("set", po::value(&run.overrides)->composing(), "override a config key: --set quant.weights.bits=4 (repeatable)")
      ("results", po::value(&run.results_path), "results file (default: the experiment's `results` key)")
      ("only", po::value(&run.only), "run only variants whose name matches this glob")
      ("threads", po::value(&run.threads)->default_value(0), "CPU threads for LibTorch and the BLAS (0: every core this process may use)")
      ("quiet,q", po::bool_switch(), "no progress output");
  po::variables_map values;
  if (!parse_args("run", "EXPERIMENT.yaml [--set key=value ...]", args, options, values, "file")) return kExitOk;
  if (values["quiet"].as<bool>()) {
    Progress::set_enabled(false);
    set_log_level(LogLevel::warn);
  }
  runner::RunSummary summary = runner::run_experiment(file, run);
  return summary.failed > 0 ? kExitFailure : kExitOk;
}

}  // namespace abq::cli

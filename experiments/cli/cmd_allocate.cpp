// abq allocate EXPERIMENT.yaml [--only GLOB] [--candidates]: each run's bit allocation without
// quantizing — the plan per site, the measured candidate table and the predicted Pareto curve.
// Measurements are cached (pipeline/cache_root.h), so a budget sweep measures once.
#include <iostream>

#include "experiments/cli/parse_args.h"
#include "experiments/runner/allocate_experiment.h"
#include "framework/core/log.h"
#include "framework/core/progress.h"

namespace abq::cli {

int cmd_allocate(const Args& args) {
  po::options_description options("options");
  std::string file;
  runner::AllocateOptions run;
  options.add_options()
      ("file", po::value(&file)->required(), "experiment YAML file")
      ("set", po::value(&run.overrides)->composing(), "override a config key (repeatable)")
      ("only", po::value(&run.only), "allocate only the runs whose name matches this glob")
      ("candidates", po::bool_switch(&run.candidates), "also print every site group x candidate: cost, score, chosen")
      ("threads", po::value(&run.threads)->default_value(0), "CPU threads for LibTorch and the BLAS (0: every core this process may use)")
      ("quiet,q", po::bool_switch(), "no progress output");
  po::variables_map values;
  if (!parse_args("allocate", "EXPERIMENT.yaml [--only GLOB] [--candidates] [--set key=value ...]", args, options, values,
                  "file"))
    return kExitOk;
  if (values["quiet"].as<bool>()) {
    Progress::set_enabled(false);
    set_log_level(LogLevel::warn);
  }
  runner::allocate_experiment(file, run, std::cout);
  return kExitOk;
}

}  // namespace abq::cli

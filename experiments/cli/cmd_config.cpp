// abq config EXPERIMENT.yaml: the fully resolved config of each run and its hash.
#include <iostream>

#include "experiments/cli/parse_args.h"
#include "experiments/runner/load_experiment.h"

namespace abq::cli {

int cmd_config(const Args& args) {
  po::options_description options("options");
  std::string file;
  std::vector<std::string> overrides;
  options.add_options()
      ("file", po::value(&file)->required(), "experiment YAML file")
      ("set", po::value(&overrides)->composing(), "override a config key: --set quant.weights.bits=4 (repeatable)");
  po::variables_map values;
  if (!parse_args("config", "EXPERIMENT.yaml [--set key=value ...]", args, options, values, "file")) return kExitOk;
  auto specs = runner::load_experiment(file, overrides);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i) std::cout << "---\n";
    std::cout << "# run " << specs[i].run_name() << "  hash " << specs[i].config_hash << "\n"
              << specs[i].resolved_yaml << "\n";
  }
  return kExitOk;
}

}  // namespace abq::cli

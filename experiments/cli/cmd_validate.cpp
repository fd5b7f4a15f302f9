// abq validate FILE...: schema-checks experiment files; reports every problem of every file.
#include <iostream>

#include "experiments/cli/parse_args.h"
#include "experiments/runner/load_experiment.h"
#include "framework/core/error.h"

namespace abq::cli {

int cmd_validate(const Args& args) {
  po::options_description options("options");
  std::vector<std::string> files;
  std::vector<std::string> overrides;
  options.add_options()
      ("files", po::value(&files)->required()->multitoken(), "experiment YAML files")
      ("set", po::value(&overrides)->composing(), "override a config key before validating (repeatable)");
  po::variables_map values;
  if (!parse_args("validate", "EXPERIMENT.yaml...", args, options, values, "files", -1)) return kExitOk;
  int bad = 0;
  for (const auto& file : files) {
    try {
      auto specs = runner::load_experiment(file, overrides);
      std::cout << file << ": ok (" << specs.size() << (specs.size() == 1 ? " run)\n" : " runs)\n");
    } catch (const ConfigError& e) {
      std::cerr << e.what() << "\n";
      ++bad;
    }
  }
  return bad ? kExitUsage : kExitOk;
}

}  // namespace abq::cli

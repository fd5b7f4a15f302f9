// abq validate FILE...: schema-checks experiment files; reports every problem of every file. For
// quant.execution: packed it also lists what each linear runs as (format, K padding, fused input).
#include <iostream>

#include "experiments/cli/parse_args.h"
#include "experiments/runner/experiment_checks.h"
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
      runner::ShapeCache shapes;
      for (const auto& spec : specs)  // quant.execution: packed: what every linear runs as
        for (const auto& note : runner::packed_execution_notes(spec, shapes))
          std::cout << "  " << (spec.variant.empty() ? "" : spec.variant + ": ") << note << "\n";
    } catch (const ConfigError& e) {
      std::cerr << e.what() << "\n";
      ++bad;
    }
  }
  return bad ? kExitUsage : kExitOk;
}

}  // namespace abq::cli

// abq describe [NAME]: the registered components by kind, or the options of one of them.
// `abq describe experiment` documents every key of an experiment file.
#include <iostream>

#include "evaluators/registry.h"
#include "experiments/cli/parse_args.h"
#include "experiments/runner/load_experiment.h"
#include "framework/config/schema.h"
#include "framework/core/spellcheck.h"
#include "framework/methods/registry.h"

namespace abq::cli {

int cmd_describe(const Args& args) {
  po::options_description options("options");
  std::string name;
  options.add_options()("name", po::value(&name), "component name, or `experiment`");
  po::variables_map values;
  if (!parse_args("describe", "[NAME]", args, options, values, "name")) return kExitOk;

  if (name.empty()) {
    std::cout << "weight quantizers: " << join(methods::component_names(methods::ComponentKind::weight_quantizer)) << "\n"
              << "corrections:       " << join(methods::component_names(methods::ComponentKind::correction)) << "\n"
              << "allocations:       " << join(methods::component_names(methods::ComponentKind::allocation)) << "\n"
              << "evaluators:        " << join(evaluators::evaluator_names()) << "\n"
              << "\n`abq describe NAME` shows a component's options; `abq describe experiment` every experiment key.\n";
    return kExitOk;
  }
  if (name == "experiment") {
    std::cout << runner::experiment_schema().describe();
    return kExitOk;
  }
  for (const auto& e : evaluators::evaluator_names())
    if (e == name) {
      std::cout << name << " (evaluator)\n" << evaluators::evaluator_schema().field(name)->describe();
      return kExitOk;
    }
  std::cout << name << "\n" << methods::options_schema(name).describe();
  return kExitOk;
}

}  // namespace abq::cli

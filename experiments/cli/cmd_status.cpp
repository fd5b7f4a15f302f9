// abq status RESULTS.h5: per-run state of a sweep from its stores, with Slurm's queue state.
#include <iostream>

#include "experiments/cli/parse_args.h"
#include "experiments/sweep/sweep_status.h"

namespace abq::cli {

int cmd_status(const Args& args) {
  po::options_description options("options");
  std::string results;
  options.add_options()("file", po::value(&results)->required(), "the sweep's results file (.h5)");
  po::variables_map values;
  if (!parse_args("status", "RESULTS.h5", args, options, values, "file")) return kExitOk;
  sweep::print_status(results, std::cout);
  return kExitOk;
}

}  // namespace abq::cli

// `abq allocate`: the bit allocation of each run, without quantizing. Loads the model and the
// calibration windows, runs the run's allocation (measuring sensitivities, or reading them from
// the cache) and prints the plan per site (bits, storage, score), the candidate table of each
// site group and the predicted Pareto curve (budget -> predicted loss).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace abq::runner {

struct AllocateOptions {
  std::vector<std::string> overrides;  // --set key.path=value
  std::string only;                    // glob on run names; "" = all
  int threads = 0;
  bool candidates = false;             // also print every group x candidate row
};

/// Prints to `out`; returns the number of runs allocated. Throws abq::ConfigError on bad input.
int allocate_experiment(const std::string& experiment_file, const AllocateOptions& options, std::ostream& out);

}  // namespace abq::runner

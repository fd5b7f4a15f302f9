// Reading an experiment file into its runs: the schema (assembled from the components' own
// declarations, evaluators included, which is why this sits above framework/), includes, `--set`,
// runs/sweep, validation, paths relative to the experiment file, config hashes and the cross-key
// checks of experiment_checks.h. Produces the typed pipeline::ExperimentSpec of each run.
#pragma once

#include <string>
#include <vector>

#include "framework/pipeline/experiment_spec.h"

namespace abq::config { class Schema; }

namespace abq::runner {

/// The schema of an experiment file, assembled from the components' own declarations.
const config::Schema& experiment_schema();

/// Loads, merges includes, applies `--set` overrides, expands runs/sweep and validates every run.
/// Throws abq::ConfigError listing every problem of every run. Two runs with the same resolved
/// config are an error unless `merge_duplicate_runs` (then the first one is kept). `forced`
/// assignments apply to every run after runs/sweep expansion, so they win over both.
std::vector<pipeline::ExperimentSpec> load_experiment(const std::string& path,
                                                      const std::vector<std::string>& overrides,
                                                      bool merge_duplicate_runs = false,
                                                      const std::vector<std::string>& forced = {});

}  // namespace abq::runner

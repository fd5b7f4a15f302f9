// The run recipe, top to bottom: resolve the experiment into runs, open the results store, and for
// each run not yet complete: load the model, build calibration windows, quantize, evaluate,
// record. A failed run is recorded as failed and the next one proceeds; a killed run stays
// "incomplete" in the store and is redone by the next `abq run`. A run stopped on request
// (pipeline/stop_request.h: a signal before a job's time limit) is left incomplete for any process
// to resume from its calibration checkpoint, and the loop ends there.
#pragma once

#include <string>
#include <vector>

namespace abq::runner {

struct RunOptions {
  std::vector<std::string> overrides;  // --set key.path=value
  std::string results_path;            // overrides the experiment's `results`
  std::string only;                    // glob on run names; "" = all
  std::vector<std::string> run_ids;    // only these runs (ids or unique id prefixes); empty = all
  bool sole_writer = false;            // store::ResultsStore::set_sole_writer (a sweep's task)
  std::string stage_cache;             // stage cache directory (core/stage_cache.h); "" = pipeline::stage_cache_dir's default
  int threads = 0;                     // compute threads (framework/pipeline/cpu_threads.h); 0 = all available cores
  bool merge_duplicate_runs = false;   // runs resolving to one config run once (abq eval)
  std::vector<std::string> forced;     // key=value applied to every run after runs/sweep (abq eval)
};

struct RunSummary {
  int completed = 0;
  int skipped = 0;   // already complete in the store
  int failed = 0;
  int interrupted = 0;  // stopped on request (pipeline/stop_request.h), left incomplete to be resumed
  std::string results_path;
};

RunSummary run_experiment(const std::string& experiment_file, const RunOptions& options);

}  // namespace abq::runner

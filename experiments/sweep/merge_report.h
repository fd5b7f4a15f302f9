// `abq merge` and the end of a sweep: the task files merged into the results file
// (store/merge_stores.h) and what became of each run, failed runs with their error and, given a
// sweep's runs.tsv, the runs no task file holds.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace abq::sweep {

struct MergeSummary {
  int complete = 0;
  int failed = 0;   // failed, or incomplete in their task file
  int missing = 0;  // listed in runs.tsv, in no input and not complete in the output
  int written = 0;  // records added or replaced in the output
};

/// Merges `inputs` into `output` and prints one line per run and a summary to `out`.
/// `runs_file` ("" = none) lists the runs expected (sweep_plan.h's runs.tsv).
MergeSummary merge_and_report(const std::vector<std::string>& inputs, const std::string& output,
                              const std::string& runs_file, std::ostream& out);

}  // namespace abq::sweep

// abq merge A.h5 B.h5 ... -o OUT.h5: results files into one (store/merge_stores.h): conflicting
// records refused, provenance kept, idempotent; failed runs listed with their error.
#include <iostream>

#include "experiments/cli/parse_args.h"
#include "experiments/sweep/merge_report.h"

namespace abq::cli {

int cmd_merge(const Args& args) {
  po::options_description options("options");
  std::vector<std::string> inputs;
  std::string output, runs_file;
  options.add_options()
      ("inputs", po::value(&inputs)->composing(), "results files to merge (read only)")
      ("output,o", po::value(&output)->required(), "the results file merged into (created if missing)")
      ("runs", po::value(&runs_file), "a sweep's runs.tsv: also list the runs no input holds as missing");
  po::variables_map values;
  if (!parse_args("merge", "A.h5 [B.h5 ...] -o OUT.h5 [--runs SWEEP/runs.tsv]", args, options, values, "inputs", -1))
    return kExitOk;
  const sweep::MergeSummary summary = sweep::merge_and_report(inputs, output, runs_file, std::cout);
  return summary.failed + summary.missing > 0 ? kExitFailure : kExitOk;
}

}  // namespace abq::cli

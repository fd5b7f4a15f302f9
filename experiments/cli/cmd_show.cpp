// abq show RESULTS.h5: runs x metrics table of a results store, with filters.
#include <fnmatch.h>

#include <algorithm>
#include <iostream>

#include "experiments/cli/parse_args.h"
#include "experiments/runner/results_table.h"
#include "framework/core/text_table.h"
#include "framework/store/results_store.h"

namespace abq::cli {
namespace {

bool glob(const std::string& pattern, const std::string& text) {
  return pattern.empty() || fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

}  // namespace

int cmd_show(const Args& args) {
  po::options_description options("options");
  std::string file, run_glob, metric_glob = "*", dataset_glob = "*";
  bool protocols = false, timings = false;
  options.add_options()
      ("file", po::value(&file)->required(), "results file (.h5)")
      ("run", po::value(&run_glob), "only runs whose name matches this glob")
      ("metric", po::value(&metric_glob)->default_value("*"), "only metrics matching this glob (ppl, acc, ...)")
      ("dataset", po::value(&dataset_glob)->default_value("*"), "only datasets matching this glob")
      ("protocols", po::bool_switch(&protocols), "list the protocol id of every metric column")
      ("timings", po::bool_switch(&timings), "per-run stage timings and peak resident memory");
  po::variables_map values;
  if (!parse_args("show", "RESULTS.h5 [--run GLOB] [--metric GLOB] [--dataset GLOB]", args, options, values, "file"))
    return kExitOk;

  store::ResultsStore results(file, store::OpenMode::existing);  // a reading command creates nothing
  std::vector<store::RunRecord> runs;
  for (auto& r : results.read_all())
    if (glob(run_glob, runner::run_attribute(r, "name"))) runs.push_back(std::move(r));
  // Execution order reads like the experiment file; run ids are hashes and sort arbitrarily.
  std::stable_sort(runs.begin(), runs.end(), [](const store::RunRecord& a, const store::RunRecord& b) {
    return runner::run_attribute(a, "started") < runner::run_attribute(b, "started");
  });
  auto table = runner::metrics_table(runs, [&](const store::MetricRow& m) {
    return glob(metric_glob, m.metric) && glob(dataset_glob, m.dataset);
  });
  std::cout << file << ": " << runs.size() << " run(s)\n" << table.text;
  if (protocols)
    for (const auto& col : table.columns) std::cout << "  " << col << "  " << table.protocols.at(col) << "\n";
  if (timings) {
    TextTable stages({"run", "stage", "seconds", "peak MiB"});
    for (const auto& r : runs) {
      for (const auto& t : r.timings)
        stages.add_row({runner::run_attribute(r, "name"), t.stage, format_number(t.seconds, 2),
                        format_number(double(t.peak_bytes) / (1 << 20), 0)});
    }
    std::cout << "\n" << stages.render();
  }
  return kExitOk;
}

}  // namespace abq::cli

// The runs x metrics table printed after `abq run` and by `abq show`: one row per run (name, id,
// setting, status), one column per metric:dataset, in first-seen order. Runs repeated over seeds
// (`seeds:`, the `seed_group` attribute) share one row: "<group> (n seeds)", each cell the mean ±
// sample standard deviation over the group's complete runs.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "framework/store/results_store.h"

namespace abq::runner {

struct MetricsTable {
  std::string text;                                // the rendered table
  std::vector<std::string> columns;                // "metric:dataset"
  std::map<std::string, std::string> protocols;    // column -> protocol id, or a note when runs differ
};

/// A run attribute, "" when absent.
std::string run_attribute(const store::RunRecord& run, const std::string& key);

/// "complete", "failed" or "incomplete" (a run still marked running was interrupted or is live).
const char* run_status_label(store::RunStatus status);

/// "mean ± std" of `values` (sample standard deviation, n - 1), or the single value; "-" when empty.
std::string mean_std_text(const std::vector<double>& values);

/// `keep` picks the metrics that become columns.
MetricsTable metrics_table(const std::vector<store::RunRecord>& runs,
                           const std::function<bool(const store::MetricRow&)>& keep);

}  // namespace abq::runner

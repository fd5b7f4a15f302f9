// The report spec: a small YAML file naming the tables of a report (rows, column groups,
// settings, metric + protocol per column, aggregate columns), how stored runs are named, which
// reference tables to read, and the gate tolerances. Declared once (config::OptionSet for every
// scalar, list schemas beside), so a typo is a ConfigError at file:line:col. Documented in
// experiments/report/README.md; ready-made specs in configs/reports/.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "experiments/report/observation.h"
#include "framework/config/schema.h"

namespace abq::report {

struct ColumnSpec {
  std::string group;         // upper header (e.g. the model); "" = none
  std::string label;         // lower header; default: the dataset
  std::string model;         // "" = any model
  std::string metric = "ppl";
  std::string dataset;
  std::string paper_metric;  // the metric of reference entries; default: accuracy_pct for acc / acc_norm
  std::string protocol;      // expected protocol name (before '@'); "" = not checked
  std::string better;        // lower | higher; default: from the metric
  int64_t decimals = 2;
  std::vector<std::string> mean_of;  // aggregate column: mean of these columns (labels in the same group)
};

struct SettingSpec {
  std::string id;     // run attribute form: W4A4KV4
  std::string label;  // as printed: W4A4; default: the id
};

struct TableSpec {
  std::string name = "table";
  std::string caption;
  std::string group_by = "setting";  // setting | none: the multirow column
  std::string sources = "both";      // both | ours | paper
  bool compare = false;              // every column as paper / ours / delta
  std::vector<SettingSpec> settings; // order and filter; empty: every setting seen
  std::vector<std::string> methods;  // order and filter; empty: every method seen
  std::vector<std::string> unranked; // methods never marked best (FP rows)
  std::vector<ColumnSpec> columns;
};

struct GateSpec {
  std::string metric;
  double relative = NAN;  // |ours - paper| / |paper| allowed (perplexities)
  double absolute = NAN;  // |ours - paper| allowed, in report units (accuracy points)
};

struct ReportSpec {
  std::string path;                     // "" for the default spec
  std::string title = "abq report";
  double z_critical = 1.96;             // two values tie when |a - b| / sqrt(sa^2 + sb^2) < this
  std::string on_protocol_mismatch = "fail";  // fail | skip: a gated pair measured under different protocols
  std::vector<std::string> references;  // reference table files, resolved against the spec's folder
  std::vector<RunNaming> runs;
  std::vector<TableSpec> tables;
  std::vector<GateSpec> gates;
};

/// The spec schema (for `abq describe`-style docs and validation).
const config::Schema& report_spec_schema();

/// Reads and validates a spec; throws abq::ConfigError with every problem at file:line:col.
ReportSpec load_report_spec(const std::string& path);

/// Without a spec: one table, every run a row (its run name), every (metric, dataset) a column.
ReportSpec default_report_spec(const std::vector<Observation>& ours);

/// The column's direction: `better` when given, else from its metric.
bool column_lower_is_better(const ColumnSpec& column);

/// The metric reference entries carry for this column.
std::string column_paper_metric(const ColumnSpec& column);

}  // namespace abq::report

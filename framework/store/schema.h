// The results-store layout, schema version 1. Every writer goes through the names and column
// lists declared here; results/README.md documents the same layout for readers (keep both in step,
// and bump kSchemaVersion for any change an older reader would misread).
//
//   /                      attrs: schema_version (int), created_by ("abq <version>")
//   /runs/<run_id>/        attrs (all strings): status (running|complete|failed), error (when
//                          failed), interrupted (a running run left to be resumed), started,
//                          finished (ISO-8601 UTC), owner_host, owner_pid,
//                          owner_process_start (run_owner.h) and any caller keys (name,
//                          experiment, config_yaml, config_hash, provenance ...)
//       metrics            compound: metric, dataset, protocol (str), value, stderr (f64), n (i64)
//       sites              compound: site (str), bits (i32), granularity (str), group_size, levels
//                          (i64), mse, sqnr_db (f64)
//       timings            compound: stage (str), seconds (f64), peak_bytes (i64)
//       <other name>       any extra Table (e.g. per-example records)
//
// Strings are variable-length UTF-8 everywhere so h5py/pandas read them without abq code.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "framework/store/table.h"

namespace abq::store {

inline constexpr int kSchemaVersion = 1;

namespace schema {
// Root.
inline constexpr const char* kSchemaVersionAttr = "schema_version";
inline constexpr const char* kCreatedByAttr = "created_by";
inline constexpr const char* kRunsGroup = "runs";
// Run attributes the store owns.
inline constexpr const char* kStatusAttr = "status";
inline constexpr const char* kErrorAttr = "error";
inline constexpr const char* kStartedAttr = "started";
inline constexpr const char* kFinishedAttr = "finished";
// Set on a running run left for another process to resume (ResultsStore::release_run).
inline constexpr const char* kInterruptedAttr = "interrupted";
// Fixed tables under /runs/<run_id>/.
inline constexpr const char* kMetricsTable = "metrics";
inline constexpr const char* kSitesTable = "sites";
inline constexpr const char* kTimingsTable = "timings";

struct ColumnSpec {
  const char* name;
  ColumnType type;
};
/// Column names and types of the fixed tables, in file order.
const std::vector<ColumnSpec>& metrics_columns();
const std::vector<ColumnSpec>& sites_columns();
const std::vector<ColumnSpec>& timings_columns();

/// True for metrics / sites / timings (names an extra table may not take).
bool is_fixed_table(const std::string& name);

/// Throws abq::Error unless `name` can be an HDF5 link name of a run or table: non-empty,
/// no '/', not "." or "..". `what` names it in the message ("run id", "table name").
void check_name(const std::string& name, const char* what);
}  // namespace schema

struct MetricRow {
  std::string metric, dataset, protocol;
  double value = 0;
  double stderr_value = NAN;  // stored as column "stderr"; NaN when the metric has none
  int64_t n = 0;              // examples (or tokens) the value was computed from
};

struct SiteRow {
  std::string site;  // site name from model/'s table, e.g. layers.7.mlp.down_proj.weight
  int bits = 16;
  std::string granularity;
  int64_t group_size = 0;
  int64_t levels = 0;
  double mse = 0;
  double sqnr_db = 0;
};

struct TimingRow {
  std::string stage;
  double seconds = 0;
  int64_t peak_bytes = 0;
};

enum class RunStatus { running, complete, failed };

/// "running" / "complete" / "failed", the strings stored in the `status` attribute.
const char* run_status_name(RunStatus status);
/// Inverse of run_status_name; throws abq::Error listing the allowed strings.
RunStatus parse_run_status(const std::string& text);

/// Rows <-> generic tables with the columns above.
Table to_table(const std::vector<MetricRow>& rows);
Table to_table(const std::vector<SiteRow>& rows);
Table to_table(const std::vector<TimingRow>& rows);
/// Throw abq::Error naming the missing or mistyped column.
std::vector<MetricRow> metric_rows(const Table& table);
std::vector<SiteRow> site_rows(const Table& table);
std::vector<TimingRow> timing_rows(const Table& table);

/// Current time as "YYYY-MM-DDTHH:MM:SSZ" (UTC), the format of `started` / `finished`.
std::string utc_now_iso8601();

}  // namespace abq::store

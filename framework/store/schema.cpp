#include "framework/store/schema.h"

#include <ctime>
#include <type_traits>

#include "framework/core/error.h"

namespace abq::store {
namespace schema {

const std::vector<ColumnSpec>& metrics_columns() {
  static const std::vector<ColumnSpec> columns = {
      {"metric", ColumnType::string}, {"dataset", ColumnType::string}, {"protocol", ColumnType::string},
      {"value", ColumnType::f64},     {"stderr", ColumnType::f64},     {"n", ColumnType::i64}};
  return columns;
}

const std::vector<ColumnSpec>& sites_columns() {
  static const std::vector<ColumnSpec> columns = {
      {"site", ColumnType::string},  {"bits", ColumnType::i32},   {"granularity", ColumnType::string},
      {"group_size", ColumnType::i64}, {"levels", ColumnType::i64}, {"mse", ColumnType::f64},
      {"sqnr_db", ColumnType::f64}};
  return columns;
}

const std::vector<ColumnSpec>& timings_columns() {
  static const std::vector<ColumnSpec> columns = {
      {"stage", ColumnType::string}, {"seconds", ColumnType::f64}, {"peak_bytes", ColumnType::i64}};
  return columns;
}

bool is_fixed_table(const std::string& name) {
  return name == kMetricsTable || name == kSitesTable || name == kTimingsTable;
}

void check_name(const std::string& name, const char* what) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    throw Error(cat("invalid ", what, " '", name, "': expected a non-empty name without '/'"));
  }
}

}  // namespace schema

namespace {

// Checks that `table` has every column of `spec` with its type; the error names table and column.
void check_columns(const Table& table, const std::vector<schema::ColumnSpec>& spec, const char* table_name) {
  for (const auto& column : spec) {
    const Column* found = table.find(column.name);
    if (found == nullptr || found->type() != column.type) {
      throw Error(cat("table '", table_name, "': expected column '", column.name, "' of type ",
                      column_type_name(column.type), ", found ",
                      found == nullptr ? std::string("no such column") : column_type_name(found->type())));
    }
  }
}

// Builds one column of `spec` from the rows with `get`, so that the order and names come from spec.
template <typename Row, typename Get>
auto column_of(const std::vector<Row>& rows, Get get) {
  std::vector<std::decay_t<decltype(get(rows.front()))>> values;
  values.reserve(rows.size());
  for (const auto& row : rows) values.push_back(get(row));
  return values;
}

void add_column(Table& table, const schema::ColumnSpec& spec, std::vector<std::string> v) {
  ABQ_ASSERT(spec.type == ColumnType::string, spec.name);
  table.add_strings(spec.name, std::move(v));
}
void add_column(Table& table, const schema::ColumnSpec& spec, std::vector<double> v) {
  ABQ_ASSERT(spec.type == ColumnType::f64, spec.name);
  table.add_f64(spec.name, std::move(v));
}
void add_column(Table& table, const schema::ColumnSpec& spec, std::vector<int64_t> v) {
  ABQ_ASSERT(spec.type == ColumnType::i64, spec.name);
  table.add_i64(spec.name, std::move(v));
}
void add_column(Table& table, const schema::ColumnSpec& spec, std::vector<int32_t> v) {
  ABQ_ASSERT(spec.type == ColumnType::i32, spec.name);
  table.add_i32(spec.name, std::move(v));
}

}  // namespace

const char* run_status_name(RunStatus status) {
  switch (status) {
    case RunStatus::running: return "running";
    case RunStatus::complete: return "complete";
    case RunStatus::failed: return "failed";
  }
  return "?";
}

RunStatus parse_run_status(const std::string& text) {
  for (RunStatus s : {RunStatus::running, RunStatus::complete, RunStatus::failed}) {
    if (text == run_status_name(s)) return s;
  }
  throw Error(cat("unknown run status '", text, "'; expected running, complete or failed"));
}

// The column order below is the order of metrics_columns() etc.; ABQ_ASSERTs pin the types.
Table to_table(const std::vector<MetricRow>& rows) {
  const auto& c = schema::metrics_columns();
  Table t;
  add_column(t, c[0], column_of(rows, [](const MetricRow& r) { return r.metric; }));
  add_column(t, c[1], column_of(rows, [](const MetricRow& r) { return r.dataset; }));
  add_column(t, c[2], column_of(rows, [](const MetricRow& r) { return r.protocol; }));
  add_column(t, c[3], column_of(rows, [](const MetricRow& r) { return r.value; }));
  add_column(t, c[4], column_of(rows, [](const MetricRow& r) { return r.stderr_value; }));
  add_column(t, c[5], column_of(rows, [](const MetricRow& r) { return r.n; }));
  return t;
}

Table to_table(const std::vector<SiteRow>& rows) {
  const auto& c = schema::sites_columns();
  Table t;
  add_column(t, c[0], column_of(rows, [](const SiteRow& r) { return r.site; }));
  add_column(t, c[1], column_of(rows, [](const SiteRow& r) { return int32_t(r.bits); }));
  add_column(t, c[2], column_of(rows, [](const SiteRow& r) { return r.granularity; }));
  add_column(t, c[3], column_of(rows, [](const SiteRow& r) { return r.group_size; }));
  add_column(t, c[4], column_of(rows, [](const SiteRow& r) { return r.levels; }));
  add_column(t, c[5], column_of(rows, [](const SiteRow& r) { return r.mse; }));
  add_column(t, c[6], column_of(rows, [](const SiteRow& r) { return r.sqnr_db; }));
  return t;
}

Table to_table(const std::vector<TimingRow>& rows) {
  const auto& c = schema::timings_columns();
  Table t;
  add_column(t, c[0], column_of(rows, [](const TimingRow& r) { return r.stage; }));
  add_column(t, c[1], column_of(rows, [](const TimingRow& r) { return r.seconds; }));
  add_column(t, c[2], column_of(rows, [](const TimingRow& r) { return r.peak_bytes; }));
  return t;
}

std::vector<MetricRow> metric_rows(const Table& table) {
  const auto& c = schema::metrics_columns();
  check_columns(table, c, schema::kMetricsTable);
  std::vector<MetricRow> rows(table.rows());
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].metric = table.strings(c[0].name)[i];
    rows[i].dataset = table.strings(c[1].name)[i];
    rows[i].protocol = table.strings(c[2].name)[i];
    rows[i].value = table.f64(c[3].name)[i];
    rows[i].stderr_value = table.f64(c[4].name)[i];
    rows[i].n = table.i64(c[5].name)[i];
  }
  return rows;
}

std::vector<SiteRow> site_rows(const Table& table) {
  const auto& c = schema::sites_columns();
  check_columns(table, c, schema::kSitesTable);
  std::vector<SiteRow> rows(table.rows());
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].site = table.strings(c[0].name)[i];
    rows[i].bits = table.i32(c[1].name)[i];
    rows[i].granularity = table.strings(c[2].name)[i];
    rows[i].group_size = table.i64(c[3].name)[i];
    rows[i].levels = table.i64(c[4].name)[i];
    rows[i].mse = table.f64(c[5].name)[i];
    rows[i].sqnr_db = table.f64(c[6].name)[i];
  }
  return rows;
}

std::vector<TimingRow> timing_rows(const Table& table) {
  const auto& c = schema::timings_columns();
  check_columns(table, c, schema::kTimingsTable);
  std::vector<TimingRow> rows(table.rows());
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].stage = table.strings(c[0].name)[i];
    rows[i].seconds = table.f64(c[1].name)[i];
    rows[i].peak_bytes = table.i64(c[2].name)[i];
  }
  return rows;
}

std::string utc_now_iso8601() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

}  // namespace abq::store

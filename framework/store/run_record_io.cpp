#include "framework/store/run_record_io.h"

#include "framework/core/error.h"
#include "framework/store/hdf5_io.h"
#include "framework/store/schema.h"

namespace abq::store {

std::optional<RunStatus> run_status_in(const H5::H5File& file, const std::string& run_id) {
  if (!file.nameExists(schema::kRunsGroup)) return std::nullopt;
  H5::Group runs = file.openGroup(schema::kRunsGroup);
  if (!runs.nameExists(run_id)) return std::nullopt;
  H5::Group run = runs.openGroup(run_id);
  std::optional<std::string> text = h5::read_string_attr(run, schema::kStatusAttr);
  if (!text) throw Error(cat("run '", run_id, "' has no '", schema::kStatusAttr, "' attribute"));
  return parse_run_status(*text);
}

RunRecord read_run_in(const H5::H5File& file, const std::string& run_id) {
  if (!file.nameExists(schema::kRunsGroup) || !file.openGroup(schema::kRunsGroup).nameExists(run_id)) {
    throw Error(cat("no run '", run_id, "'"));
  }
  H5::Group run = file.openGroup(schema::kRunsGroup).openGroup(run_id);
  RunRecord record;
  record.run_id = run_id;
  record.attributes = h5::read_attrs_as_strings(run);
  auto status = record.attributes.find(schema::kStatusAttr);
  if (status == record.attributes.end()) {
    throw Error(cat("run '", run_id, "' has no '", schema::kStatusAttr, "' attribute"));
  }
  record.status = parse_run_status(status->second);
  record.attributes.erase(status);

  const hsize_t count = run.getNumObjs();
  for (hsize_t i = 0; i < count; ++i) {
    const std::string name = run.getObjnameByIdx(i);
    if (run.childObjType(name) != H5O_TYPE_DATASET) continue;
    try {
      Table table = h5::read_table(run, name);
      if (name == schema::kMetricsTable) {
        record.metrics = metric_rows(table);
      } else if (name == schema::kSitesTable) {
        record.sites = site_rows(table);
      } else if (name == schema::kTimingsTable) {
        record.timings = timing_rows(table);
      } else {
        record.tables.emplace(name, std::move(table));
      }
    } catch (Error& e) {
      throw e.with_context(cat("reading table '", name, "' of run '", run_id, "'"));
    }
  }
  return record;
}

// One record written whole into `runs`, replacing a run of the same id.
void write_record(H5::Group& runs, const RunRecord& record) {
  schema::check_name(record.run_id, "run id");
  if (runs.nameExists(record.run_id)) runs.unlink(record.run_id);
  H5::Group run = runs.createGroup(record.run_id);
  for (const auto& [key, value] : record.attributes) {
    if (key.empty() || key == schema::kStatusAttr) throw Error(cat("run '", record.run_id, "' has an attribute named '", key, "'"));
    h5::write_string_attr(run, key, value);
  }
  h5::write_table(run, schema::kMetricsTable, to_table(record.metrics));
  h5::write_table(run, schema::kSitesTable, to_table(record.sites));
  h5::write_table(run, schema::kTimingsTable, to_table(record.timings));
  for (const auto& [name, table] : record.tables) {
    schema::check_name(name, "table name");
    if (schema::is_fixed_table(name)) throw Error(cat("extra table name '", name, "' is reserved"));
    h5::write_table(run, name, table);
  }
  h5::write_string_attr(run, schema::kStatusAttr, run_status_name(record.status));  // last, as finish_run
}

}  // namespace abq::store

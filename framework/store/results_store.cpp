#include "framework/store/results_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>

#include "framework/core/error.h"
#include "framework/store/atomic_file.h"
#include "framework/store/hdf5_io.h"
#include "framework/store/provenance.h"

namespace abq::store {
namespace {

bool file_exists(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) return true;
  if (errno == ENOENT) return false;
  throw Error(cat("cannot stat results store '", path, "': ", std::strerror(errno)));
}

// > 0 when the file carries HDF5's signature (at offset 0 or after a user block), 0 when it does
// not, < 0 when it cannot be read.
htri_t has_hdf5_signature(const std::string& path) {
#if H5_VERSION_GE(1, 12, 0)
  return H5Fis_accessible(path.c_str(), H5P_DEFAULT);
#else
  return H5Fis_hdf5(path.c_str());
#endif
}

// Opens `file_path` (the store itself, or its temporary copy during a write) and checks that it
// is an abq store this build can read. Every message names `display_path`, the store's path.
H5::H5File open_checked(const std::string& file_path, unsigned flags, const std::string& display_path) {
  const htri_t signature = has_hdf5_signature(file_path);
  if (signature < 0) {
    throw h5::hdf5_error(cat("cannot read results store '", display_path, "'"));
  }
  if (signature == 0) {
    throw Error(cat("'", display_path, "' is not an HDF5 file (no HDF5 signature); expected an abq ",
                    "results store. Move it away or choose another results path; abq never overwrites it"));
  }
  H5::H5File file;
  try {
    file = H5::H5File(file_path, flags, H5::FileCreatPropList::DEFAULT, h5::file_access());
  } catch (const H5::Exception& e) {
    throw h5::hdf5_error(cat("cannot open results store '", display_path, "' (damaged or truncated?)"), e);
  }
  std::optional<int64_t> version;
  try {
    version = h5::read_int_attr(file, schema::kSchemaVersionAttr);
  } catch (Error& e) {
    throw e.with_context(cat("reading results store '", display_path, "'"));
  }
  if (!version) {
    throw Error(cat("'", display_path, "' is an HDF5 file but not an abq results store: '/' has no '",
                    schema::kSchemaVersionAttr, "' attribute"));
  }
  if (*version > kSchemaVersion) {
    throw Error(cat("results store '", display_path, "' has schema_version ", *version,
                    "; this build of abq reads schema versions up to ", kSchemaVersion,
                    ". Use a newer abq to read or extend it"));
  }
  if (*version < 1) {
    throw Error(cat("results store '", display_path, "' has invalid schema_version ", *version,
                    "; expected 1..", kSchemaVersion));
  }
  return file;
}

// The runs group, created on demand when writing.
H5::Group runs_group(H5::H5File& file) {
  if (file.nameExists(schema::kRunsGroup)) return file.openGroup(schema::kRunsGroup);
  return file.createGroup(schema::kRunsGroup);
}

std::optional<RunStatus> run_status_in(const H5::H5File& file, const std::string& run_id) {
  if (!file.nameExists(schema::kRunsGroup)) return std::nullopt;
  H5::Group runs = file.openGroup(schema::kRunsGroup);
  if (!runs.nameExists(run_id)) return std::nullopt;
  H5::Group run = runs.openGroup(run_id);
  std::optional<std::string> text = h5::read_string_attr(run, schema::kStatusAttr);
  if (!text) throw Error(cat("run '", run_id, "' has no '", schema::kStatusAttr, "' attribute"));
  return parse_run_status(*text);
}

void write_caller_attributes(H5::Group& run, const std::map<std::string, std::string>& attributes) {
  for (const auto& [key, value] : attributes) {
    if (key.empty()) throw Error("run attribute names must not be empty");
    if (key == schema::kStatusAttr) {
      throw Error(cat("run attribute '", key, "' is set by the store; pass the status through ",
                      "begin_run / finish_run / fail_run instead"));
    }
    h5::write_string_attr(run, key, value);
  }
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

}  // namespace

// Every public operation runs through here: serialise HDF5 use in this process, route HDF5 errors
// to our handler, and turn HDF5 exceptions into abq::Error naming the operation and the store.
template <typename Body>
auto store_op(const std::string& path, const std::string& what, Body&& body) {
  std::lock_guard<std::recursive_mutex> guard(h5::hdf5_mutex());
  h5::install_error_handler();
  try {
    return body();
  } catch (const H5::Exception& e) {
    throw h5::hdf5_error(cat(what, " in results store '", path, "'"), e);
  } catch (Error& e) {
    throw e.with_context(cat(what, " in results store '", path, "'"));
  }
}

namespace {

// Runs `edit` on a writable copy of the store under the writer lock, then swaps it in atomically.
void mutate(const std::string& path, const std::string& lock_path, double timeout,
            const std::function<void(H5::H5File&)>& edit) {
  FileLock lock(lock_path, timeout);
  replace_file_atomically(path, [&](const std::string& temp_path) {
    H5::H5File file = open_checked(temp_path, H5F_ACC_RDWR, path);
    edit(file);
    file.close();
  });
}

}  // namespace

ResultsStore::ResultsStore(std::string path) : path_(std::move(path)), lock_path_(path_ + ".lock") {
  if (path_.empty()) throw Error("results store path is empty");
  std::lock_guard<std::recursive_mutex> guard(h5::hdf5_mutex());
  h5::install_error_handler();
  try {
    const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
      if (ec) throw Error(cat("cannot create directory '", parent.string(), "': ", ec.message()));
    }
    if (!file_exists(path_)) {
      FileLock lock(lock_path_, lock_timeout_seconds_);
      if (!file_exists(path_)) {  // another process may have created it while we waited
        replace_file_atomically(path_, [&](const std::string& temp_path) {
          H5::H5File file(temp_path, H5F_ACC_EXCL, H5::FileCreatPropList::DEFAULT, h5::file_access());
          h5::write_int_attr(file, schema::kSchemaVersionAttr, kSchemaVersion);
          h5::write_string_attr(file, schema::kCreatedByAttr, "abq " + abq_version());
          file.createGroup(schema::kRunsGroup);
          file.close();
        });
      }
    }
    open_checked(path_, H5F_ACC_RDONLY, path_);
  } catch (const H5::Exception& e) {
    throw h5::hdf5_error(cat("opening results store '", path_, "'"), e);
  }
}

std::optional<RunStatus> ResultsStore::status(const std::string& run_id) const {
  schema::check_name(run_id, "run id");
  return store_op(path_, cat("reading the status of run '", run_id, "'"), [&] {
    H5::H5File file = open_checked(path_, H5F_ACC_RDONLY, path_);
    return run_status_in(file, run_id);
  });
}

void ResultsStore::begin_run(const std::string& run_id, const std::map<std::string, std::string>& attributes) {
  schema::check_name(run_id, "run id");
  return store_op(path_, cat("beginning run '", run_id, "'"), [&] {
    mutate(path_, lock_path_, lock_timeout_seconds_, [&](H5::H5File& file) {
      std::optional<RunStatus> previous = run_status_in(file, run_id);
      if (previous == RunStatus::complete) {
        throw Error(cat("run '", run_id, "' is already complete; a complete run is never replaced ",
                        "(skip it, or change the config so that it gets a new run id)"));
      }
      H5::Group runs = runs_group(file);
      if (previous) runs.unlink(run_id);  // incomplete: start over with a fresh group
      H5::Group run = runs.createGroup(run_id);
      write_caller_attributes(run, attributes);
      h5::write_string_attr(run, schema::kStatusAttr, run_status_name(RunStatus::running));
      if (!attributes.count(schema::kStartedAttr)) {
        h5::write_string_attr(run, schema::kStartedAttr, utc_now_iso8601());
      }
    });
  });
}

void ResultsStore::finish_run(const RunRecord& record) {
  schema::check_name(record.run_id, "run id");
  for (const auto& [name, table] : record.tables) {
    schema::check_name(name, "table name");
    if (schema::is_fixed_table(name)) {
      throw Error(cat("extra table name '", name, "' is reserved; use RunRecord::", name, " instead"));
    }
  }
  // Built before the write so that a malformed row fails without touching the file.
  const Table metrics = to_table(record.metrics);
  const Table sites = to_table(record.sites);
  const Table timings = to_table(record.timings);
  return store_op(path_, cat("finishing run '", record.run_id, "'"), [&] {
    mutate(path_, lock_path_, lock_timeout_seconds_, [&](H5::H5File& file) {
      std::optional<RunStatus> previous = run_status_in(file, record.run_id);
      if (previous != RunStatus::running) {
        throw Error(cat("run '", record.run_id, "' is ",
                        previous ? run_status_name(*previous) : "not in the store",
                        "; finish_run needs a running run (call begin_run first)"));
      }
      H5::Group run = file.openGroup(schema::kRunsGroup).openGroup(record.run_id);
      write_caller_attributes(run, record.attributes);
      h5::write_table(run, schema::kMetricsTable, metrics);
      h5::write_table(run, schema::kSitesTable, sites);
      h5::write_table(run, schema::kTimingsTable, timings);
      for (const auto& [name, table] : record.tables) h5::write_table(run, name, table);
      if (!record.attributes.count(schema::kErrorAttr)) h5::remove_attr(run, schema::kErrorAttr);
      if (!record.attributes.count(schema::kFinishedAttr)) {
        h5::write_string_attr(run, schema::kFinishedAttr, utc_now_iso8601());
      }
      // Last, so that a record is complete only with all of the above in it.
      h5::write_string_attr(run, schema::kStatusAttr, run_status_name(RunStatus::complete));
    });
  });
}

void ResultsStore::fail_run(const std::string& run_id, const std::string& error) {
  schema::check_name(run_id, "run id");
  return store_op(path_, cat("recording the failure of run '", run_id, "'"), [&] {
    mutate(path_, lock_path_, lock_timeout_seconds_, [&](H5::H5File& file) {
      std::optional<RunStatus> previous = run_status_in(file, run_id);
      if (previous == RunStatus::complete) {
        throw Error(cat("run '", run_id, "' is complete; it cannot be marked failed"));
      }
      H5::Group runs = runs_group(file);
      H5::Group run = previous ? runs.openGroup(run_id) : runs.createGroup(run_id);
      h5::write_string_attr(run, schema::kErrorAttr, error);
      h5::write_string_attr(run, schema::kFinishedAttr, utc_now_iso8601());
      h5::write_string_attr(run, schema::kStatusAttr, run_status_name(RunStatus::failed));
    });
  });
}

void ResultsStore::write_table(const std::string& run_id, const std::string& name, const Table& table) {
  schema::check_name(run_id, "run id");
  schema::check_name(name, "table name");
  if (schema::is_fixed_table(name)) {
    throw Error(cat("table name '", name, "' is reserved; it is written by finish_run"));
  }
  return store_op(path_, cat("writing table '", name, "' of run '", run_id, "'"), [&] {
    mutate(path_, lock_path_, lock_timeout_seconds_, [&](H5::H5File& file) {
      std::optional<RunStatus> current = run_status_in(file, run_id);
      if (current != RunStatus::running) {
        throw Error(cat("run '", run_id, "' is ", current ? run_status_name(*current) : "not in the store",
                        "; tables can only be added to a running run"));
      }
      H5::Group run = file.openGroup(schema::kRunsGroup).openGroup(run_id);
      h5::write_table(run, name, table);
    });
  });
}

std::vector<std::string> ResultsStore::run_ids() const {
  return store_op(path_, "listing runs", [&] {
    H5::H5File file = open_checked(path_, H5F_ACC_RDONLY, path_);
    std::vector<std::string> ids;
    if (!file.nameExists(schema::kRunsGroup)) return ids;
    H5::Group runs = file.openGroup(schema::kRunsGroup);
    const hsize_t count = runs.getNumObjs();
    for (hsize_t i = 0; i < count; ++i) ids.push_back(runs.getObjnameByIdx(i));
    std::sort(ids.begin(), ids.end());
    return ids;
  });
}

RunRecord ResultsStore::read_run(const std::string& run_id) const {
  schema::check_name(run_id, "run id");
  return store_op(path_, cat("reading run '", run_id, "'"), [&] {
    H5::H5File file = open_checked(path_, H5F_ACC_RDONLY, path_);
    return read_run_in(file, run_id);
  });
}

std::vector<RunRecord> ResultsStore::read_all() const {
  return store_op(path_, "reading all runs", [&] {
    // One open file, so the records come from one consistent version of the store.
    H5::H5File file = open_checked(path_, H5F_ACC_RDONLY, path_);
    std::vector<RunRecord> records;
    if (!file.nameExists(schema::kRunsGroup)) return records;
    H5::Group runs = file.openGroup(schema::kRunsGroup);
    std::vector<std::string> ids;
    const hsize_t count = runs.getNumObjs();
    for (hsize_t i = 0; i < count; ++i) ids.push_back(runs.getObjnameByIdx(i));
    std::sort(ids.begin(), ids.end());
    for (const auto& id : ids) records.push_back(read_run_in(file, id));
    return records;
  });
}

}  // namespace abq::store

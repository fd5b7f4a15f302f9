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
#include "framework/store/memory_file.h"
#include "framework/store/provenance.h"
#include "framework/store/run_owner.h"
#include "framework/store/run_record_io.h"
#include "framework/store/store_seal.h"
#include "framework/store/unsealed_store.h"

namespace abq::store {
namespace {

bool file_exists(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) return true;
  if (errno == ENOENT) return false;
  throw Error(cat("cannot stat results store '", path, "': ", std::strerror(errno)));
}

// HDF5's signature sits at offset 0, or after a user block at 512, 1024, 2048, ...
bool has_hdf5_signature(const std::string& bytes) {
  static const char kSignature[] = "\x89HDF\r\n\x1a\n";
  for (size_t offset = 0; offset + 8 <= bytes.size(); offset = offset == 0 ? 512 : offset * 2) {
    if (bytes.compare(offset, 8, kSignature, 8) == 0) return true;
  }
  return false;
}

// Opens the bytes of a store file in memory and checks that they are an abq store this build can
// read: the seal first (store_seal.h), then HDF5's signature, then the schema attributes. A sealed
// store is parsed here; an unsealed one only in a child process (unsealed_store.h), and checked
// as rebuilt from what the child read. Every message names `display_path`, the store's path as
// the user gave it.
StoreImage open_store_bytes(std::string bytes, const std::string& display_path, bool writable) {
  UnsealedBytes content = unseal_store_bytes(std::move(bytes), display_path);
  if (!has_hdf5_signature(content.hdf5)) {
    throw Error(cat("'", display_path, "' is not an HDF5 file (no HDF5 signature); expected an abq ",
                    "results store. Move it away or choose another results path; abq never overwrites it"));
  }
  std::optional<StoreImage> opened;
  if (!content.sealed) {
    opened.emplace(rebuild_unsealed_store(content.hdf5, display_path));
  } else {
    try {
      opened.emplace(StoreImage{h5::MemoryFile::open(content.hdf5, writable), {}});
    } catch (const H5::Exception& e) {
      throw h5::hdf5_error(cat("cannot open results store '", display_path, "' (damaged or truncated?)"), e);
    }
  }
  H5::H5File& file = opened->image.file();
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
  return std::move(*opened);
}

// Reads the store file `file_path` whole (one consistent version even while writers rename new
// versions over it) and opens it in memory.
StoreImage open_store(const std::string& file_path, const std::string& display_path, bool writable) {
  std::string bytes;
  try {
    bytes = read_whole_file(file_path);
  } catch (Error& e) {
    throw e.with_context(cat("cannot read results store '", display_path, "'"));
  }
  return open_store_bytes(std::move(bytes), display_path, writable);
}

// The runs group, created on demand when writing.
H5::Group runs_group(H5::H5File& file) {
  if (file.nameExists(schema::kRunsGroup)) return file.openGroup(schema::kRunsGroup);
  return file.createGroup(schema::kRunsGroup);
}

bool is_owner_attribute(const std::string& key) {
  for (const char* const* name = owner_attribute_names(); *name != nullptr; ++name) {
    if (key == *name) return true;
  }
  return false;
}

void write_caller_attributes(H5::Group& run, const std::map<std::string, std::string>& attributes) {
  for (const auto& [key, value] : attributes) {
    if (key.empty()) throw Error("run attribute names must not be empty");
    if (key == schema::kStatusAttr) {
      throw Error(cat("run attribute '", key, "' is set by the store; pass the status through ",
                      "begin_run / finish_run / fail_run instead"));
    }
    if (is_owner_attribute(key)) {
      throw Error(cat("run attribute '", key, "' is set by the store: begin_run records the process that ",
                      "holds the run"));
    }
    h5::write_string_attr(run, key, value);
  }
}

void write_owner(H5::Group& run) {
  for (const auto& [key, value] : owner_attributes(this_process_owner())) h5::write_string_attr(run, key, value);
}

// The owner recorded in a run and what is known of it; nullopt for runs without one.
std::optional<std::pair<RunOwner, OwnerState>> recorded_owner(const H5::Group& run,
                                                             std::map<std::string, std::string>* attributes) {
  *attributes = h5::read_attrs_as_strings(run);
  std::optional<RunOwner> owner = owner_from_attributes(*attributes);
  if (!owner) return std::nullopt;
  return std::make_pair(*owner, owner_state(*owner));
}

std::string started_of(const std::map<std::string, std::string>& attributes) {
  auto it = attributes.find(schema::kStartedAttr);
  return it == attributes.end() ? "" : it->second;
}

// A running run may be taken over (begin_run) or marked failed by another process only when its
// owner is dead; `action` says what was refused.
void refuse_if_held_by_another_process(const H5::Group& run, const std::string& run_id, const std::string& action,
                                       bool other_hosts_are_dead = false) {
  std::map<std::string, std::string> attributes;
  auto owner = recorded_owner(run, &attributes);
  if (!owner) return;  // begun before owners were recorded: nothing can be checked
  const std::string who = describe_owner(owner->first, started_of(attributes));
  if (owner->second == OwnerState::alive) {
    throw Error(cat("run '", run_id, "' is in progress in ", who, "; a run held by a live process is never ",
                    action, ". Wait for it to finish (abq run skips a complete run), or stop that process ",
                    "and run again to resume it"));
  }
  if (owner->second == OwnerState::other_host && !other_hosts_are_dead) {
    throw Error(cat("run '", run_id, "' is running in ", who, ", and from host '", this_process_owner().host,
                    "' abq cannot tell whether that process is alive, so the run is not ", action,
                    ". Run again on host ", owner->first.host, " (where a dead owner's run is resumed), ",
                    "or wait for it to finish"));
  }
}

// finish_run and write_table extend a run only for the process that began it.
void require_this_process_owns(const H5::Group& run, const std::string& run_id) {
  std::map<std::string, std::string> attributes;
  auto owner = recorded_owner(run, &attributes);
  if (!owner || owner->second == OwnerState::this_process) return;
  throw Error(cat("run '", run_id, "' is held by ", describe_owner(owner->first, started_of(attributes)),
                  ", not by this process (", this_process_owner().pid, "); only the process that began a run ",
                  "may extend or finish it"));
}

// Every run must read back before a write adds to the store: a write never builds on (or hides)
// a damaged record.
void verify_every_run(const StoreImage& store, const std::string& display_path) {
  if (!store.unreadable.empty()) throw damaged_store_error(display_path, store.unreadable.begin()->second.problem);
  const H5::H5File& file = store.image.file();
  if (!file.nameExists(schema::kRunsGroup)) return;
  H5::Group runs = file.openGroup(schema::kRunsGroup);
  const hsize_t count = runs.getNumObjs();
  for (hsize_t i = 0; i < count; ++i) {
    const std::string id = runs.getObjnameByIdx(i);
    try {
      read_run_in(file, id);
    } catch (const H5::Exception& e) {
      throw damaged_store_error(display_path, h5::hdf5_error(cat("its run '", id, "' cannot be read"), e).message());
    } catch (const Error& e) {
      std::string detail = e.what();
      for (size_t at; (at = detail.find("\n  ")) != std::string::npos;) detail.replace(at, 3, ": ");
      throw damaged_store_error(display_path, cat("its run '", id, "' is malformed (", detail, ")"));
    }
  }
}

// Every run id of the store, the unreadable runs of an unsealed store included, in lexicographic
// order.
std::vector<std::string> all_run_ids(const StoreImage& store) {
  std::vector<std::string> ids;
  const H5::H5File& file = store.image.file();
  if (file.nameExists(schema::kRunsGroup)) {
    H5::Group runs = file.openGroup(schema::kRunsGroup);
    const hsize_t count = runs.getNumObjs();
    for (hsize_t i = 0; i < count; ++i) ids.push_back(runs.getObjnameByIdx(i));
  }
  for (const auto& [id, run] : store.unreadable) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// As read_run_in; an unreadable run of an unsealed store throws what reading it threw.
RunRecord read_run_of(const StoreImage& store, const std::string& run_id) {
  auto unreadable = store.unreadable.find(run_id);
  if (unreadable != store.unreadable.end()) throw Error(unreadable->second.read_error);
  return read_run_in(store.image.file(), run_id);
}

// As run_status_in; an unreadable run's status is the one recorded for it, when it had one.
std::optional<RunStatus> run_status_of(const StoreImage& store, const std::string& run_id) {
  auto unreadable = store.unreadable.find(run_id);
  if (unreadable == store.unreadable.end()) return run_status_in(store.image.file(), run_id);
  if (!unreadable->second.status) throw Error(unreadable->second.read_error);
  return parse_run_status(*unreadable->second.status);
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

// Runs `edit` on an in-memory copy of the store under the writer lock, then writes the sealed
// result over the file atomically. The store is checked whole first (seal, schema, every run), so
// a damaged store is refused and left as it is; a failed write (full disk) leaves it as it was.
void mutate(const std::string& file_path, const std::string& display_path, const std::string& lock_path,
            double timeout, const std::function<void(H5::H5File&)>& edit) {
  FileLock lock(lock_path, timeout);
  StoreImage store = open_store(file_path, display_path, /*writable=*/true);
  verify_every_run(store, display_path);
  edit(store.image.file());
  write_file_atomically(file_path, seal_store_bytes(store.image.image()));
}

// A new store: schema attributes and an empty runs group.
void create_store(const std::string& file_path) {
  h5::MemoryFile image = h5::MemoryFile::create();
  h5::write_int_attr(image.file(), schema::kSchemaVersionAttr, kSchemaVersion);
  h5::write_string_attr(image.file(), schema::kCreatedByAttr, "abq " + abq_version());
  image.file().createGroup(schema::kRunsGroup);
  write_file_atomically(file_path, seal_store_bytes(image.image()));
}

}  // namespace

ResultsStore::ResultsStore(std::string path, OpenMode mode) : path_(std::move(path)) {
  if (path_.empty()) throw Error("results store path is empty");
  file_ = resolve_symlinks(path_);
  lock_path_ = file_ + ".lock";
  std::lock_guard<std::recursive_mutex> guard(h5::hdf5_mutex());
  h5::install_error_handler();
  try {
    if (mode == OpenMode::existing) {
      if (!file_exists(file_)) {
        throw Error(cat("no results store '", path_, "'", file_ == path_ ? "" : cat(" (a link to '", file_, "')"),
                        ": no such file. Check the path; reading a store never creates one"));
      }
    } else {
      const std::filesystem::path parent = std::filesystem::path(file_).parent_path();
      if (!parent.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(parent, ec);
        if (ec) throw Error(cat("cannot create directory '", parent.string(), "': ", ec.message()));
      }
      if (!file_exists(file_)) {
        FileLock lock(lock_path_, lock_timeout_seconds_);
        if (!file_exists(file_)) create_store(file_);  // another process may have created it while we waited
      }
    }
    open_store(file_, path_, /*writable=*/false);
  } catch (const H5::Exception& e) {
    throw h5::hdf5_error(cat("opening results store '", path_, "'"), e);
  }
}

std::optional<RunStatus> ResultsStore::status(const std::string& run_id) const {
  schema::check_name(run_id, "run id");
  return store_op(path_, cat("reading the status of run '", run_id, "'"), [&] {
    return run_status_of(open_store(file_, path_, /*writable=*/false), run_id);
  });
}

void ResultsStore::begin_run(const std::string& run_id, const std::map<std::string, std::string>& attributes) {
  schema::check_name(run_id, "run id");
  return store_op(path_, cat("beginning run '", run_id, "'"), [&] {
    mutate(file_, path_, lock_path_, lock_timeout_seconds_, [&](H5::H5File& file) {
      std::optional<RunStatus> previous = run_status_in(file, run_id);
      if (previous == RunStatus::complete) {
        throw Error(cat("run '", run_id, "' is already complete; a complete run is never replaced ",
                        "(skip it, or change the config so that it gets a new run id)"));
      }
      H5::Group runs = runs_group(file);
      if (previous == RunStatus::running)
        refuse_if_held_by_another_process(runs.openGroup(run_id), run_id, "taken over", sole_writer_);
      if (previous) runs.unlink(run_id);  // incomplete: start over with a fresh group
      H5::Group run = runs.createGroup(run_id);
      write_caller_attributes(run, attributes);
      write_owner(run);
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
    mutate(file_, path_, lock_path_, lock_timeout_seconds_, [&](H5::H5File& file) {
      std::optional<RunStatus> previous = run_status_in(file, record.run_id);
      if (previous != RunStatus::running) {
        throw Error(cat("run '", record.run_id, "' is ",
                        previous ? run_status_name(*previous) : "not in the store",
                        "; finish_run needs a running run (call begin_run first)"));
      }
      H5::Group run = file.openGroup(schema::kRunsGroup).openGroup(record.run_id);
      require_this_process_owns(run, record.run_id);
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
    mutate(file_, path_, lock_path_, lock_timeout_seconds_, [&](H5::H5File& file) {
      std::optional<RunStatus> previous = run_status_in(file, run_id);
      if (previous == RunStatus::complete) {
        throw Error(cat("run '", run_id, "' is complete; it cannot be marked failed"));
      }
      H5::Group runs = runs_group(file);
      H5::Group run = previous ? runs.openGroup(run_id) : runs.createGroup(run_id);
      if (previous == RunStatus::running) refuse_if_held_by_another_process(run, run_id, "marked failed");
      // An error message may quote damaged input verbatim; it is stored escaped, never refused.
      h5::write_string_attr(run, schema::kErrorAttr, h5::escape_invalid_utf8(error));
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
    mutate(file_, path_, lock_path_, lock_timeout_seconds_, [&](H5::H5File& file) {
      std::optional<RunStatus> current = run_status_in(file, run_id);
      if (current != RunStatus::running) {
        throw Error(cat("run '", run_id, "' is ", current ? run_status_name(*current) : "not in the store",
                        "; tables can only be added to a running run"));
      }
      H5::Group run = file.openGroup(schema::kRunsGroup).openGroup(run_id);
      require_this_process_owns(run, run_id);
      h5::write_table(run, name, table);
    });
  });
}

void ResultsStore::release_run(const std::string& run_id, const std::string& note) {
  schema::check_name(run_id, "run id");
  return store_op(path_, cat("releasing run '", run_id, "'"), [&] {
    mutate(file_, path_, lock_path_, lock_timeout_seconds_, [&](H5::H5File& file) {
      std::optional<RunStatus> current = run_status_in(file, run_id);
      if (current != RunStatus::running) {
        throw Error(cat("run '", run_id, "' is ", current ? run_status_name(*current) : "not in the store",
                        "; only a running run can be left for another process to resume"));
      }
      H5::Group run = file.openGroup(schema::kRunsGroup).openGroup(run_id);
      require_this_process_owns(run, run_id);
      for (const char* const* name = owner_attribute_names(); *name != nullptr; ++name) h5::remove_attr(run, *name);
      h5::write_string_attr(run, schema::kInterruptedAttr, h5::escape_invalid_utf8(note));
    });
  });
}

namespace {

std::vector<RunRecord> read_all_in(const StoreImage& store) {
  std::vector<RunRecord> records;
  for (const auto& id : all_run_ids(store)) records.push_back(read_run_of(store, id));
  return records;
}

}  // namespace

void ResultsStore::write_records(
    const std::function<std::vector<RunRecord>(const std::vector<RunRecord>& current)>& plan) {
  return store_op(path_, "writing merged records", [&] {
    // As mutate(), but a plan with nothing to write leaves the file untouched (a repeated merge).
    FileLock lock(lock_path_, lock_timeout_seconds_);
    StoreImage store = open_store(file_, path_, /*writable=*/true);
    verify_every_run(store, path_);
    const std::vector<RunRecord> records = plan(read_all_in(store));
    if (records.empty()) return;
    H5::Group runs = runs_group(store.image.file());
    for (const auto& record : records) write_record(runs, record);
    write_file_atomically(file_, seal_store_bytes(store.image.image()));
  });
}

std::vector<std::string> ResultsStore::run_ids() const {
  return store_op(path_, "listing runs", [&] { return all_run_ids(open_store(file_, path_, /*writable=*/false)); });
}

RunRecord ResultsStore::read_run(const std::string& run_id) const {
  schema::check_name(run_id, "run id");
  return store_op(path_, cat("reading run '", run_id, "'"),
                  [&] { return read_run_of(open_store(file_, path_, /*writable=*/false), run_id); });
}

std::vector<RunRecord> ResultsStore::read_all() const {
  return store_op(path_, "reading all runs", [&] {
    // One read of the file, so the records come from one consistent version of the store.
    return read_all_in(open_store(file_, path_, /*writable=*/false));
  });
}

}  // namespace abq::store

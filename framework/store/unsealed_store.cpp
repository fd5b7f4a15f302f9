#include "framework/store/unsealed_store.h"

#include "framework/core/error.h"
#include "framework/store/hdf5_io.h"
#include "framework/store/parse_in_child.h"
#include "framework/store/run_record_io.h"
#include "framework/store/schema.h"
#include "framework/store/store_seal.h"

namespace abq::store {
namespace {

// Error chains span lines ("context\n  message"); a damage message keeps them on one line.
std::string one_line(std::string text) {
  for (size_t at; (at = text.find("\n  ")) != std::string::npos;) text.replace(at, 3, ": ");
  return text;
}

// Reads run `id` into `snapshot`: its record, or what stops it from being read. Every HDF5 or
// schema failure of one run is kept as that run's problem (other runs stay readable).
void read_run_into(const H5::H5File& file, const std::string& id, StoreSnapshot& snapshot) {
  UnreadableRun run;
  run.run_id = id;
  try {
    snapshot.runs.push_back(read_run_in(file, id));
    return;
  } catch (const H5::Exception& e) {
    run.problem = h5::hdf5_error(cat("its run '", id, "' cannot be read"), e).message();
    run.read_error = h5::hdf5_error("HDF5 cannot read it", e).message();
  } catch (const Error& e) {
    run.problem = cat("its run '", id, "' is malformed (", one_line(e.what()), ")");
    run.read_error = e.what();
  }
  try {
    run.status = h5::read_string_attr(file.openGroup(schema::kRunsGroup).openGroup(id), schema::kStatusAttr);
  } catch (const H5::Exception&) {
  } catch (const Error&) {
  }
  snapshot.unreadable.push_back(std::move(run));
}

StoreSnapshot snapshot_of(const H5::H5File& file) {
  StoreSnapshot snapshot;
  snapshot.schema_version = h5::read_int_attr(file, schema::kSchemaVersionAttr);
  // Not an abq store, or one of another schema: the caller reports it; reading on could
  // misread a layout this build does not know.
  if (!snapshot.schema_version || *snapshot.schema_version < 1 || *snapshot.schema_version > kSchemaVersion) {
    return snapshot;
  }
  snapshot.root_attributes = h5::read_attrs_as_strings(file);
  snapshot.root_attributes.erase(schema::kSchemaVersionAttr);
  snapshot.has_runs_group = file.nameExists(schema::kRunsGroup);
  if (!snapshot.has_runs_group) return snapshot;
  H5::Group runs = file.openGroup(schema::kRunsGroup);
  for (hsize_t i = 0, n = runs.getNumObjs(); i < n; ++i) read_run_into(file, runs.getObjnameByIdx(i), snapshot);
  return snapshot;
}

// Writes the snapshot's values into a new in-memory store. The values are plain data, but they
// came from an untrusted file: a run whose values cannot be stored (a name HDF5 refuses, text
// that is not UTF-8) becomes unreadable instead of failing the whole store.
StoreImage image_of(const StoreSnapshot& snapshot, const std::string& display_path) {
  StoreImage store{h5::MemoryFile::create(), {}};
  H5::H5File& file = store.image.file();
  if (snapshot.schema_version) h5::write_int_attr(file, schema::kSchemaVersionAttr, *snapshot.schema_version);
  for (const auto& [key, value] : snapshot.root_attributes) {
    try {
      h5::write_string_attr(file, key, value);
    } catch (const Error& e) {
      throw damaged_store_error(display_path, cat("its root attribute '", h5::escape_invalid_utf8(key),
                                                  "' cannot be kept (", one_line(e.what()), ")"));
    }
  }
  if (!snapshot.has_runs_group) return store;
  H5::Group runs = file.createGroup(schema::kRunsGroup);
  for (const RunRecord& record : snapshot.runs) {
    std::string why;
    try {
      write_record(runs, record);
      continue;
    } catch (const H5::Exception& e) {
      why = h5::hdf5_error("HDF5 cannot store it", e).message();
    } catch (const Error& e) {
      why = e.what();
    }
    try {
      if (runs.nameExists(record.run_id)) runs.unlink(record.run_id);
    } catch (const H5::Exception&) {
    }
    const std::string id = h5::escape_invalid_utf8(record.run_id);
    store.unreadable[record.run_id] = UnreadableRun{record.run_id, run_status_name(record.status),
                                                    cat("its run '", id, "' is malformed (", one_line(why), ")"), why};
  }
  for (const UnreadableRun& run : snapshot.unreadable) store.unreadable[run.run_id] = run;
  return store;
}

}  // namespace

std::string read_store_snapshot(const std::string& hdf5) {
  try {
    h5::MemoryFile parsed = h5::MemoryFile::open(hdf5, /*writable=*/false);
    return encode_snapshot(snapshot_of(parsed.file()));
  } catch (const H5::Exception& e) {
    throw h5::hdf5_error("HDF5 cannot read it", e);
  }
}

StoreImage rebuild_unsealed_store(const std::string& hdf5, const std::string& display_path, double seconds) {
  StoreSnapshot snapshot;
  try {
    snapshot = decode_snapshot(parse_in_child([&] { return read_store_snapshot(hdf5); }, seconds));
  } catch (const Error& e) {
    throw damaged_store_error(display_path, cat("it has no seal (it was written before abq sealed its stores), ",
                                                "and reading it failed: ", one_line(e.what())));
  }
  try {
    return image_of(snapshot, display_path);
  } catch (const H5::Exception& e) {
    throw h5::hdf5_error(cat("rebuilding results store '", display_path, "' in memory"), e);
  }
}

}  // namespace abq::store

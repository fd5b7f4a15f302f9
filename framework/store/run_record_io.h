// One run's record <-> its HDF5 group under /runs (layout in schema.h): the only code that reads
// or writes a whole record, shared by the store's operations and the child that reads an unsealed
// store (unsealed_store.h). Callers hold h5::hdf5_mutex().
#pragma once

#include <H5Cpp.h>

#include <optional>
#include <string>

#include "framework/store/results_store.h"

namespace abq::store {

/// nullopt when the store has no run `run_id`; throws abq::Error when its status is missing or
/// not one of the known names.
std::optional<RunStatus> run_status_in(const H5::H5File& file, const std::string& run_id);

/// The whole record of `run_id`. Throws abq::Error when there is no such run or its record breaks
/// the schema, H5::Exception when HDF5 cannot read it.
RunRecord read_run_in(const H5::H5File& file, const std::string& run_id);

/// Writes `record` whole into `runs` (status from RunRecord::status, every attribute and table),
/// replacing a run of the same id; the status is written last.
void write_record(H5::Group& runs, const RunRecord& record);

}  // namespace abq::store

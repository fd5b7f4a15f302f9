// Everything an unsealed store holds (store_seal.h), as plain values that cross a pipe: a forked
// child parses the store with HDF5 and sends back encode_snapshot(...); the parent decodes it and
// rebuilds the store in memory from these values, so its own HDF5 never meets the untrusted bytes
// (HDF5 1.10 can crash on one damaged byte, and a parse that corrupts memory without crashing
// would otherwise go on in the parent).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "framework/store/results_store.h"

namespace abq::store {

/// A run the child could not read whole. It keeps its place in the store (so listings and the
/// status of other runs still work) and blocks every write, as a damaged record does.
struct UnreadableRun {
  std::string run_id;
  std::optional<std::string> status;  // its status attribute, when that much could be read
  std::string problem;     // "its run '<id>' cannot be read: <HDF5 message>" or "... is malformed (<why>)"
  std::string read_error;  // what reading the run throws
};

struct StoreSnapshot {
  /// nullopt: no schema_version attribute (not an abq store). The child stops reading at a
  /// missing, newer or invalid version; the parent reports it.
  std::optional<int64_t> schema_version;
  std::map<std::string, std::string> root_attributes;  // every other attribute of '/', as text
  bool has_runs_group = false;
  std::vector<RunRecord> runs;             // every run that read back whole
  std::vector<UnreadableRun> unreadable;   // every other run
};

std::string encode_snapshot(const StoreSnapshot& snapshot);
/// Inverse of encode_snapshot. Throws abq::Error "malformed store snapshot: ..." for bytes
/// encode_snapshot did not write (a child whose memory was corrupted may send anything); never
/// reads past the end or allocates more than the bytes could describe.
StoreSnapshot decode_snapshot(const std::string& bytes);

}  // namespace abq::store

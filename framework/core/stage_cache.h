// A content-addressed cache of stage results that do not depend on what a sweep varies (calibration
// windows, activation statistics of the fp model, the fp block chain), shared by the runs of a
// sweep. An entry is named by the sha256 of everything its result depends on (stage_key: input
// digests, the stage's own options and a format version), so a changed input never meets a stale
// entry.
//
// Entry file `<dir>/<kind>-<key>.bin`:
//   "ABQSTG01"          8-byte magic
//   sha256 of payload   64 lower-case hex characters
//   payload size        uint64, little-endian host order
//   payload             the stage's own encoding
// Written to a temporary file unique to the writer and renamed over the entry, so concurrent runs
// that miss together each publish a complete file. Every read re-hashes the payload: a truncated or
// altered entry is a miss with a warning (and is recomputed), never a wrong result.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace abq {

class StageCache {
 public:
  /// `dir` "" disables the cache (get misses, put does nothing).
  explicit StageCache(std::string dir = "") : dir_(std::move(dir)) {}
  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }

  /// The verified payload of entry `kind`-`key`, or nullopt: absent, unreadable or damaged (the
  /// last two logged as warnings).
  std::optional<std::string> get(const std::string& kind, const std::string& key) const;
  /// Stores an entry; a failure to write is logged and ignored (the cache only saves time).
  void put(const std::string& kind, const std::string& key, const std::string& payload) const;
  /// Where entry `kind`-`key` lives (tests damage entries through it).
  std::string path(const std::string& kind, const std::string& key) const;

 private:
  std::string dir_;
};

/// sha256 over the parts, each length-prefixed, so ("ab", "c") and ("a", "bc") differ.
std::string stage_key(const std::vector<std::string>& parts);

/// What a run records per cached stage: `cache_<stage>` = hit | miss | off | n/a and
/// `seconds_<stage>` (time spent in the stage, computing or reading).
struct StageUse {
  std::string outcome = "n/a";
  double seconds = 0;
};

}  // namespace abq

// A content-addressed cache of stage results that do not depend on what a sweep varies, shared by
// the runs of a sweep (`abq sweep` gives its tasks <results>.sweep/cache; `abq run --stage-cache
// DIR`). An entry is named by the sha256 of everything its result depends on (input digests and
// options, and a format version), so a changed input never meets a stale entry. Entries are
// written atomically: concurrent runs that miss together both write the same bytes.
//
// Cached: calibration windows (the tokenized, sampled calibration data).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace abq::runner {

class StageCache {
 public:
  /// `dir` "" disables the cache (get misses, put does nothing).
  explicit StageCache(std::string dir) : dir_(std::move(dir)) {}
  bool enabled() const { return !dir_.empty(); }

  /// The entry `kind`-`key`, or nullopt (also when it cannot be read).
  std::optional<std::string> get(const std::string& kind, const std::string& key) const;
  /// Stores an entry; a failure to write is logged and ignored (the cache only saves time).
  void put(const std::string& kind, const std::string& key, const std::string& bytes) const;

 private:
  std::string path(const std::string& kind, const std::string& key) const;
  std::string dir_;
};

/// sha256 over the parts (each length-prefixed, so ("ab", "c") and ("a", "bc") differ).
std::string cache_key(const std::vector<std::string>& parts);

/// Token windows <-> bytes (a versioned header, then each window's length and int64 tokens).
std::string encode_windows(const std::vector<std::vector<int64_t>>& windows);
/// nullopt when the bytes are not an encoding of windows (a damaged entry is a miss).
std::optional<std::vector<std::vector<int64_t>>> decode_windows(const std::string& bytes);

}  // namespace abq::runner

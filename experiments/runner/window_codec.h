// The calibration windows' entry in the stage cache (framework/core/stage_cache.h): token windows
// <-> bytes, a versioned header, then each window's length and int64 tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace abq::runner {

/// Token windows -> bytes.
std::string encode_windows(const std::vector<std::vector<int64_t>>& windows);
/// nullopt when the bytes are not an encoding of windows (a damaged entry is a miss).
std::optional<std::vector<std::vector<int64_t>>> decode_windows(const std::string& bytes);

}  // namespace abq::runner

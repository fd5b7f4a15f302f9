// Logging: leveled one-line messages on stderr. Silent fallbacks are not allowed in abq, so every
// slower path or clamped value is announced with log_warn (and recorded by the caller).
#pragma once

#include <string>

#include "framework/core/error.h"

namespace abq {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, quiet = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
void log_message(LogLevel level, const std::string& text);

template <typename... Parts> void log_info(const Parts&... p) { log_message(LogLevel::info, cat(p...)); }
template <typename... Parts> void log_warn(const Parts&... p) { log_message(LogLevel::warn, cat(p...)); }
template <typename... Parts> void log_debug(const Parts&... p) { log_message(LogLevel::debug, cat(p...)); }

}  // namespace abq

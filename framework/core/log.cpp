#include "framework/core/log.h"

#include <atomic>
#include <cstdio>

namespace abq {
namespace {
std::atomic<int> g_level{int(LogLevel::info)};
}

void set_log_level(LogLevel level) { g_level = int(level); }
LogLevel log_level() { return LogLevel(g_level.load()); }

void log_message(LogLevel level, const std::string& text) {
  if (int(level) < g_level) return;
  static const char* prefix[] = {"debug: ", "", "warning: ", "error: "};
  std::fprintf(stderr, "%s%s\n", prefix[int(level)], text.c_str());
}

}  // namespace abq

#include "framework/pipeline/cache_root.h"

#include <cstdlib>

namespace abq::pipeline {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// ABQ_CACHE_DIR="" and ABQ_CACHE_DIR=off switch caching off; unset leaves the defaults.
bool caching_off() {
  const char* v = std::getenv("ABQ_CACHE_DIR");
  return v && (*v == '\0' || std::string(v) == "off");
}

}  // namespace

std::string cache_root() {
  if (caching_off()) return "";
  if (auto dir = env("ABQ_CACHE_DIR"); !dir.empty()) return dir;
  if (auto dir = env("XDG_CACHE_HOME"); !dir.empty()) return dir + "/abq";
  if (auto dir = env("HOME"); !dir.empty()) return dir + "/.cache/abq";
  return "";
}

std::string stage_cache_dir(const std::string& requested) {
  if (caching_off()) return "";
  if (!requested.empty()) return requested;
  const std::string root = cache_root();
  return root.empty() ? "" : root + "/stages";
}

}  // namespace abq::pipeline

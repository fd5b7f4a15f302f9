#include "framework/pipeline/cache_root.h"

#include <cstdlib>

namespace abq::pipeline {

std::string cache_root() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v && *v ? v : "";
  };
  if (auto dir = env("ABQ_CACHE_DIR"); !dir.empty()) return dir;
  if (auto dir = env("XDG_CACHE_HOME"); !dir.empty()) return dir + "/abq";
  if (auto dir = env("HOME"); !dir.empty()) return dir + "/.cache/abq";
  return "";
}

}  // namespace abq::pipeline

// ExperimentSpec::resolve_path (experiment_spec.h): the one rule by which every stage turns a path
// from the config into a file name. Kept here, beside the spec type, rather than with the loader
// (experiments/runner) because the stages below the runner resolve paths too.
#include "framework/pipeline/experiment_spec.h"

#include <cstdlib>
#include <filesystem>

namespace abq::pipeline {

std::string ExperimentSpec::resolve_path(const std::string& path) const {
  if (path.empty() || path[0] == '/') return path;
  if (path[0] == '~') {
    const char* home = std::getenv("HOME");
    return std::string(home ? home : "") + path.substr(1);
  }
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

}  // namespace abq::pipeline

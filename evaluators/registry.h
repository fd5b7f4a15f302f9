// The evaluator registry: every evaluator by name, in one sorted list (registry.cpp), with the
// schema of its options. Adding an evaluator: its file here, one line in registry.cpp, its test.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "evaluators/evaluator.h"

namespace abq::config { class Schema; }

namespace abq::evaluators {

/// Turns a path from the config into one the process can open (relative to the experiment file).
using PathResolver = std::function<std::string(const std::string&)>;

std::vector<std::string> evaluator_names();
/// Tagged schema: `type` picks the evaluator, the other keys are its options.
config::Schema evaluator_schema();
std::unique_ptr<Evaluator> make_evaluator(const std::string& type, const YAML::Node& options, const PathResolver& resolve);

}  // namespace abq::evaluators

// The method registry: every plugin by kind and name, in one explicit sorted list per kind
// (registry.cpp). Adding a method is one file in methods/ plus one line here; see README.md.
// Options arrive as validated YAML (defaults filled by the schema declared next to them) and
// are turned into the component's typed Options struct before it is constructed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "framework/methods/correction.h"
#include "framework/methods/weight_quantizer.h"

namespace abq::config { class Schema; }

namespace abq::methods {

enum class ComponentKind { weight_quantizer, correction, allocation };

/// Registered names of a kind, sorted.
std::vector<std::string> component_names(ComponentKind kind);

/// The tagged schema of a kind: `type` selects one registered component, the rest are its options.
config::Schema component_schema(ComponentKind kind);

/// Options schema of one component, for `abq describe NAME`; throws abq::Error for unknown names.
config::Schema options_schema(const std::string& name);

/// True for quantizers that need per-layer Hessians (GPTQ): they run in calib/'s block-wise engine.
bool weight_quantizer_needs_hessian(const std::string& type);

/// True for `learned` (OmniQuant / AffineQuant / ABQ-LLM): trained block by block by
/// calib::calibrate_learned with options from learned_options_from_yaml (learned/learned_config.h).
bool weight_quantizer_is_learned(const std::string& type);

std::unique_ptr<WeightQuantizer> make_weight_quantizer(const std::string& type, const YAML::Node& options);
std::unique_ptr<Correction> make_correction(const std::string& type, const YAML::Node& options);

}  // namespace abq::methods

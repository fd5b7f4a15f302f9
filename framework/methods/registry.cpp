// The one list of registered methods per kind, sorted by name. Each entry: name, and the options'
// one declaration (config/options.h, next to the options struct), from which the entry's schema and
// factory are made. Add a method here after writing its file (methods/README.md).
#include "framework/methods/registry.h"

#include <functional>

#include "framework/calib/closed_form_calibrator.h"
#include "framework/calib/learned_calibrator.h"
#include "framework/config/schema.h"
#include "framework/core/error.h"
#include "framework/core/spellcheck.h"
#include "framework/methods/allocations/mixed.h"
#include "framework/methods/allocations/uniform.h"
#include "framework/methods/corrections/awq.h"
#include "framework/methods/corrections/rotation.h"
#include "framework/methods/corrections/smoothquant.h"
#include "framework/methods/learned/learned_options.h"
#include "framework/methods/quantizers/awq_clip.h"
#include "framework/methods/quantizers/gptq.h"
#include "framework/methods/quantizers/rtn.h"

namespace abq::methods {
namespace {

using config::Schema;

// A weight quantizer is a per-weight quantizer (make_quantizer; calibrated blocks run it in a
// calib::ClosedFormCalibrator), a block calibrator of its own (make_calibrator), or both.
struct WeightQuantizerEntry {
  const char* name;
  bool needs_calibration;  // calibrated block by block on calibration data (calib::calibrate_blocks)
  std::function<Schema()> schema;
  std::function<std::unique_ptr<WeightQuantizer>(const YAML::Node&)> make_quantizer;          // empty: blocks only
  std::function<std::unique_ptr<calib::BlockCalibrator>(const YAML::Node&)> make_calibrator;  // empty: closed form
};

struct CorrectionEntry {
  const char* name;
  std::function<Schema()> schema;
  std::function<std::unique_ptr<Correction>(const YAML::Node&)> make;
};

struct AllocationEntry {
  const char* name;
  std::function<Schema()> schema;
  std::function<std::unique_ptr<Allocation>(const YAML::Node&)> make;
};

// An entry's schema and factory, both from the options' one declaration.
template <typename Options>
std::function<Schema()> schema_of(const config::OptionSet<Options>& (*declaration)()) {
  return [declaration] { return declaration().schema(); };
}

template <typename Base, typename Impl, typename Options>
std::function<std::unique_ptr<Base>(const YAML::Node&)> factory_of(const config::OptionSet<Options>& (*declaration)()) {
  return [declaration](const YAML::Node& o) -> std::unique_ptr<Base> {
    return std::make_unique<Impl>(declaration().decode(o));
  };
}

const std::vector<WeightQuantizerEntry>& weight_quantizers() {
  static const std::vector<WeightQuantizerEntry> entries = {
      {"awq_clip", true, schema_of(awq_clip_options), factory_of<WeightQuantizer, AwqClipQuantizer>(awq_clip_options),
       nullptr},
      {"gptq", true, schema_of(gptq_options), factory_of<WeightQuantizer, GptqQuantizer>(gptq_options), nullptr},
      {"learned", true, schema_of(learned_options), nullptr,
       [](const YAML::Node& o) { return std::make_unique<calib::LearnedCalibrator>(learned_options().decode(o)); }},
      {"rtn", false, schema_of(rtn_options), factory_of<WeightQuantizer, RtnQuantizer>(rtn_options), nullptr},
  };
  return entries;
}

const std::vector<CorrectionEntry>& corrections() {
  static const std::vector<CorrectionEntry> entries = {
      {"awq", schema_of(awq_options), factory_of<Correction, Awq>(awq_options)},
      {"rotation", schema_of(rotation_options), factory_of<Correction, Rotation>(rotation_options)},
      {"smoothquant", schema_of(smoothquant_options), factory_of<Correction, SmoothQuant>(smoothquant_options)},
  };
  return entries;
}

const std::vector<AllocationEntry>& allocations() {
  static const std::vector<AllocationEntry> entries = {
      {"mixed", mixed_schema, [](const YAML::Node& o) { return std::make_unique<MixedPrecisionAllocation>(o); }},
      {"uniform", schema_of(uniform_options), factory_of<Allocation, UniformAllocation>(uniform_options)},
  };
  return entries;
}

template <typename Entries>
const auto& find_entry(const Entries& entries, const std::string& type, const char* kind) {
  std::vector<std::string> names;
  for (const auto& e : entries) {
    if (type == e.name) return e;
    names.push_back(e.name);
  }
  std::string hint = closest_match(type, names);
  throw ConfigError(cat("unknown ", kind, " '", type, "'", hint.empty() ? "" : "; did you mean '" + hint + "'?",
                        " registered: ", join(names)));
}

}  // namespace

std::vector<std::string> component_names(ComponentKind kind) {
  std::vector<std::string> names;
  switch (kind) {
    case ComponentKind::weight_quantizer:
      for (const auto& e : weight_quantizers()) names.push_back(e.name);
      break;
    case ComponentKind::correction:
      for (const auto& e : corrections()) names.push_back(e.name);
      break;
    case ComponentKind::allocation:
      for (const auto& e : allocations()) names.push_back(e.name);
      break;
  }
  return names;
}

config::Schema component_schema(ComponentKind kind) {
  Schema::Fields types;
  switch (kind) {
    case ComponentKind::weight_quantizer:
      for (const auto& e : weight_quantizers()) types.push_back({e.name, e.schema()});
      return Schema::tagged("type", types).default_type("rtn");
    case ComponentKind::correction:
      for (const auto& e : corrections()) types.push_back({e.name, e.schema()});
      return Schema::tagged("type", types);
    case ComponentKind::allocation:
      for (const auto& e : allocations()) types.push_back({e.name, e.schema()});
      return Schema::tagged("type", types).default_type("uniform");
  }
  throw std::logic_error("component_schema: unknown kind");
}

config::Schema options_schema(const std::string& name) {
  for (const auto& e : weight_quantizers())
    if (name == e.name) return e.schema();
  for (const auto& e : corrections())
    if (name == e.name) return e.schema();
  for (const auto& e : allocations())
    if (name == e.name) return e.schema();
  std::vector<std::string> names;
  for (ComponentKind kind : {ComponentKind::weight_quantizer, ComponentKind::correction, ComponentKind::allocation})
    for (const auto& n : component_names(kind)) names.push_back(n);
  std::string hint = closest_match(name, names);
  throw ConfigError(cat("unknown component '", name, "'", hint.empty() ? "" : "; did you mean '" + hint + "'?",
                        " registered: ", join(names)));
}

bool weight_quantizer_needs_calibration(const std::string& type) {
  return find_entry(weight_quantizers(), type, "weight quantizer").needs_calibration;
}

bool weight_quantizer_keeps_codes(const std::string& type) {
  return bool(find_entry(weight_quantizers(), type, "weight quantizer").make_quantizer);
}

std::unique_ptr<WeightQuantizer> make_weight_quantizer(const std::string& type, const YAML::Node& options) {
  const auto& entry = find_entry(weight_quantizers(), type, "weight quantizer");
  if (!entry.make_quantizer)
    throw ConfigError(cat("weight quantizer '", type, "' calibrates whole blocks and has no per-weight form; ",
                          "it runs through make_block_calibrator"));
  return entry.make_quantizer(options);
}

std::unique_ptr<calib::BlockCalibrator> make_block_calibrator(const std::string& type, const YAML::Node& options) {
  const auto& entry = find_entry(weight_quantizers(), type, "weight quantizer");
  if (entry.make_calibrator) return entry.make_calibrator(options);
  return std::make_unique<calib::ClosedFormCalibrator>(entry.make_quantizer(options));
}

std::unique_ptr<Correction> make_correction(const std::string& type, const YAML::Node& options) {
  return find_entry(corrections(), type, "correction").make(options);
}

std::unique_ptr<Allocation> make_allocation(const std::string& type, const YAML::Node& options) {
  return find_entry(allocations(), type, "allocation").make(options);
}

}  // namespace abq::methods

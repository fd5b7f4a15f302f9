// The one list of registered methods per kind, sorted by name. Each entry: name, options schema,
// factory from validated options. Add a method here after writing its file (methods/README.md).
#include "framework/methods/registry.h"

#include <functional>

#include "framework/calib/closed_form_calibrator.h"
#include "framework/calib/learned_calibrator.h"
#include "framework/config/schema.h"
#include "framework/core/error.h"
#include "framework/core/spellcheck.h"
#include "framework/methods/corrections/awq.h"
#include "framework/methods/corrections/rotation.h"
#include "framework/methods/corrections/smoothquant.h"
#include "framework/methods/learned/learned_config.h"
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

Schema awq_clip_schema() {
  return Schema::object({
      {"n_grid", Schema::integer().range(1, 1000).default_value(20).doc("clip ratios step 1/n_grid")},
      {"max_shrink", Schema::number().range(0.0, 1.0).exclusive_max().default_value(0.5).doc(
                         "ratios 1 - i/n_grid for i < max_shrink*n_grid")},
  });
}

Schema gptq_schema() {
  return Schema::object({
      {"block_size", Schema::integer().range(1, 1 << 20).default_value(128).doc("columns per lazy-batch update")},
      {"damp", Schema::number().range(0.0, 1.0).default_value(0.01).doc("fraction of mean diag(H) added before Cholesky")},
      {"act_order", Schema::boolean().default_value(false).doc("quantize columns by decreasing diag(H)")},
      {"static_groups", Schema::boolean().default_value(false).doc("per_group: all group ranges from the original weight")},
  });
}

// The search quantizes each linear on the experiment's weight grid (quant.weights and per-site
// overrides), so the correction has no bits or group size of its own.
Schema awq_schema() {
  return Schema::object({
      {"grid", Schema::integer().range(1, 1000).default_value(20).doc("ratios tried, r = k/grid")},
  });
}

Schema rotation_schema() {
  return Schema::object({
      {"seed", Schema::integer().range(0, int64_t(1) << 62).default_value(0).doc("random signs of the residual rotation")},
      {"residual", Schema::enumeration({"fused", "online"}).default_value("fused").doc(
                       "fused: fold the norm weights and rotate the residual stream (QuaRot, free at run time); "
                       "online: keep the norm weights and rotate each norm output by a [C, C] matmul per token")},
      {"online_down", Schema::boolean().default_value(true).doc("rotate the down_proj input online by a Hadamard")},
      {"rotate_ov", Schema::boolean().default_value(true).doc("per-head Hadamard between v_proj and o_proj")},
  });
}

Schema smoothquant_schema() {
  return Schema::object({
      {"alpha", Schema::number().range(0.0, 1.0).default_value(0.5).doc(
                    "migration strength: s_j = max|X_j|^alpha / max|W_j|^(1-alpha)")},
  });
}

const std::vector<WeightQuantizerEntry>& weight_quantizers() {
  static const std::vector<WeightQuantizerEntry> entries = {
      {"awq_clip", true, awq_clip_schema,
       [](const YAML::Node& o) {
         AwqClipOptions options;
         options.n_grid = o["n_grid"].as<int64_t>();
         options.max_shrink = o["max_shrink"].as<double>();
         return std::make_unique<AwqClipQuantizer>(options);
       },
       nullptr},
      {"gptq", true, gptq_schema,
       [](const YAML::Node& o) {
         GptqOptions options;
         options.block_size = o["block_size"].as<int64_t>();
         options.damp = o["damp"].as<double>();
         options.act_order = o["act_order"].as<bool>();
         options.static_groups = o["static_groups"].as<bool>();
         return std::make_unique<GptqQuantizer>(options);
       },
       nullptr},
      {"learned", true, learned_schema, nullptr,
       [](const YAML::Node& o) { return std::make_unique<calib::LearnedCalibrator>(learned_options_from_yaml(o)); }},
      {"rtn", false, [] { return Schema::object({}); },
       [](const YAML::Node&) { return std::make_unique<RtnQuantizer>(RtnOptions{}); }, nullptr},
  };
  return entries;
}

const std::vector<CorrectionEntry>& corrections() {
  static const std::vector<CorrectionEntry> entries = {
      {"awq", awq_schema,
       [](const YAML::Node& o) {
         AwqOptions options;
         options.grid = o["grid"].as<int64_t>();
         return std::make_unique<Awq>(options);
       }},
      {"rotation", rotation_schema,
       [](const YAML::Node& o) {
         RotationOptions options;
         options.seed = o["seed"].as<uint64_t>();
         options.online_down = o["online_down"].as<bool>();
         options.rotate_ov = o["rotate_ov"].as<bool>();
         options.residual = o["residual"].as<std::string>() == "online" ? ResidualRotation::online : ResidualRotation::fused;
         return std::make_unique<Rotation>(options);
       }},
      {"smoothquant", smoothquant_schema,
       [](const YAML::Node& o) {
         SmoothQuantOptions options;
         options.alpha = o["alpha"].as<double>();
         return std::make_unique<SmoothQuant>(options);
       }},
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
      names.push_back("uniform");
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
      break;
  }
  throw std::logic_error("component_schema: allocation schemas are declared by the pipeline");
}

config::Schema options_schema(const std::string& name) {
  for (const auto& e : weight_quantizers())
    if (name == e.name) return e.schema();
  for (const auto& e : corrections())
    if (name == e.name) return e.schema();
  std::vector<std::string> names = component_names(ComponentKind::weight_quantizer);
  for (const auto& n : component_names(ComponentKind::correction)) names.push_back(n);
  std::string hint = closest_match(name, names);
  throw ConfigError(cat("unknown component '", name, "'", hint.empty() ? "" : "; did you mean '" + hint + "'?",
                        " registered: ", join(names)));
}

bool weight_quantizer_needs_calibration(const std::string& type) {
  return find_entry(weight_quantizers(), type, "weight quantizer").needs_calibration;
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

}  // namespace abq::methods

// The method registry: every plugin by kind and name, in one explicit sorted list per kind
// (registry.cpp). Adding a method is one file in methods/ plus one line here; see README.md.
// Options arrive as validated YAML (defaults filled by the schema declared next to them) and
// are turned into the component's typed Options struct before it is constructed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "framework/methods/allocation.h"
#include "framework/methods/correction.h"
#include "framework/methods/weight_quantizer.h"

namespace abq::config { class Schema; }
namespace abq::calib { class BlockCalibrator; }

namespace abq::methods {

enum class ComponentKind { weight_quantizer, correction, allocation };

/// Registered names of a kind, sorted.
std::vector<std::string> component_names(ComponentKind kind);

/// The tagged schema of a kind: `type` selects one registered component, the rest are its options.
config::Schema component_schema(ComponentKind kind);

/// Options schema of one component, for `abq describe NAME`; throws abq::Error for unknown names.
config::Schema options_schema(const std::string& name);

/// True when the weight quantizer `type` calibrates block by block on calibration data (gptq,
/// awq_clip, learned): quantize through make_block_calibrator and calib::calibrate_blocks. False for
/// calibration-free ones (rtn), which run per linear from make_weight_quantizer, data or not.
bool weight_quantizer_needs_calibration(const std::string& type);

/// True when the weight quantizer `type` leaves every baked weight with its integer codes, scales
/// and zero-points (a per-weight quantizer: rtn, and gptq / awq_clip through the closed-form
/// calibrator), so it can run packed; false for quantizers that train whole blocks (learned), whose
/// baked blocks hold fake weights only.
bool weight_quantizer_keeps_codes(const std::string& type);

/// The per-weight quantizer of `type`; throws abq::ConfigError for types that only calibrate
/// whole blocks (learned).
std::unique_ptr<WeightQuantizer> make_weight_quantizer(const std::string& type, const YAML::Node& options);

/// The block calibrator for the weight-quantizer YAML (`type` + validated options): the type's own
/// calibrator where it registers one (learned), else its per-weight quantizer in
/// calib::ClosedFormCalibrator (Hessian stages, true_sequential).
std::unique_ptr<calib::BlockCalibrator> make_block_calibrator(const std::string& type, const YAML::Node& options);

std::unique_ptr<Correction> make_correction(const std::string& type, const YAML::Node& options);
/// `options` holds the allocation's own keys (the experiment's `overrides` are not among them).
std::unique_ptr<Allocation> make_allocation(const std::string& type, const YAML::Node& options);

}  // namespace abq::methods

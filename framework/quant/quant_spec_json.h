// QuantSpec <-> JSON, the one encoding every JSON file that stores a spec uses (calibration
// checkpoints' state.json, exported folders' abq_quant.json): all seven fields, granularity by name.
#pragma once

#include <nlohmann/json.hpp>

#include "framework/quant/quant_spec.h"

namespace abq::quant {

nlohmann::json spec_to_json(const QuantSpec& spec);
/// Throws nlohmann::json::exception for a missing or mistyped field and abq::Error for an unknown
/// granularity name; callers add the file and key. Does not validate the combination.
QuantSpec spec_from_json(const nlohmann::json& j);

}  // namespace abq::quant

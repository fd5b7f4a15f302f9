// The YAML face of learned calibration (weight_quantizer type `learned`): its options schema and
// the conversion of validated options into methods::LearnedOptions.
#pragma once

#include <yaml-cpp/yaml.h>

#include "framework/config/schema.h"
#include "framework/methods/learned/learned_options.h"

namespace abq::methods {

config::Schema learned_schema();
/// `options` has passed learned_schema() (defaults filled).
LearnedOptions learned_options_from_yaml(const YAML::Node& options);

}  // namespace abq::methods

// The small definitions behind methods/allocation.h (the kind's interface).
#include "framework/methods/allocation.h"

#include "framework/core/error.h"

namespace abq::methods {

const char* to_string(SiteRole role) {
  switch (role) {
    case SiteRole::weight: return "weight";
    case SiteRole::activation: return "activation";
    case SiteRole::kv: return "kv";
  }
  return "weight";
}

const quant::QuantSpec& DefaultSpecs::for_role(SiteRole role) const {
  switch (role) {
    case SiteRole::weight: return weights;
    case SiteRole::activation: return activations;
    case SiteRole::kv: return kv;
  }
  return weights;
}

SensitivityService& AllocationContext::require_sensitivity(const std::string& allocation) const {
  if (!sensitivity)
    throw ConfigError(cat("allocation '", allocation,
                          "' measures site sensitivity on calibration windows: set calibration.data"));
  return *sensitivity;
}

}  // namespace abq::methods

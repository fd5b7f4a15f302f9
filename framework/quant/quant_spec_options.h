// The one declaration of QuantSpec's keys (config/options.h): type, range, doc line and the
// cross-field rules. The experiment schema (quant.weights / activations / kv and the overrides),
// QuantSpec JSON in checkpoints and exports, validate() and describe() all come from it.
#pragma once

#include "framework/config/options.h"
#include "framework/quant/quant_spec.h"

namespace abq::quant {

const config::OptionSet<QuantSpec>& quant_spec_options();

/// The spec with `granularity` as its default (weights: per_channel; activations, kv: per_token).
QuantSpec default_spec(Granularity granularity);

}  // namespace abq::quant

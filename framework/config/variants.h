// Variants: one experiment file may describe several runs.
//
//   runs:                                   # named variants, each a set of dotted-key values
//     - {name: w4, set: {quant.weights.bits: 4}}
//     - {name: w3g128, set: {quant.weights.bits: 3, quant.weights.group_size: 128}}
//   sweep:                                  # cartesian product, keys in the order written
//     quant.weights.bits: [2, 3, 4]
//     calibration.seed: [0, 1]
//
// With both, every run is combined with every sweep point (runs outermost).
#pragma once

#include <string>
#include <vector>

#include "framework/config/document.h"

namespace abq::config {

struct Variant {
  /// runs: the run's name; sweep: "quant.weights.bits=2,calibration.seed=0"; both: "w4/bits=2";
  /// neither: "".
  std::string name;
  /// The document without `runs`/`sweep`, with this variant's values applied (positioned at
  /// the `runs`/`sweep` entries they came from).
  Document document;
};

/// One Variant per run x sweep point, in order. Throws abq::ConfigError listing every malformed
/// entry (runs not a list of {name, set}, duplicate run names, sweep values not non-empty lists,
/// a swept key also given with --set).
std::vector<Variant> expand_variants(const Document& document);

}  // namespace abq::config

// Validation: checks a Document against a Schema and returns the resolved tree, with defaults
// filled in and scalars normalized (integers in decimal, numbers as floats, booleans true/false,
// strings tagged so they stay strings). Every problem is reported, not just the first:
//
//   experiments/x.yaml:12:5: unknown key 'blocksize' in quant.weights
//       blocksize: 128
//       ^ did you mean 'block_size'? allowed: act_order, block_size, damp
//
// Messages (pinned by tests/unit/config/validate_test.cpp):
//   unknown key 'K' in PATH                       hint: did you mean 'X'? allowed: ...
//   wrong type for PATH: expected E, got G        (G: "integer 4", "string 'x'", "a list", "null")
//   value V for PATH is out of range [lo, hi]     (open ends: "(0.0, 1.0]", "[1, inf)")
//   bad value 'V' for PATH                        hint: did you mean 'X'? allowed: ...
//   missing required key 'K' in PATH              (the root is "at top level")
//   unknown type 'T' for PATH                     hint: did you mean 'X'? allowed types: ...
//   PATH has N items; expected at least M         (at most M, exactly M)
#pragma once

#include "framework/config/diagnostics.h"
#include "framework/config/document.h"
#include "framework/config/schema.h"

namespace abq::config {

/// Validates the whole document; throws one abq::ConfigError listing every problem.
YAML::Node validate(const Document& document, const Schema& schema);

/// Validates the subtree at `path` (absent: validated as absent, so defaults apply); messages name
/// full paths. Throws like validate().
YAML::Node validate_at(const Document& document, const KeyPath& path, const Schema& schema);

/// The collecting form: adds issues to `diagnostics` (which must refer to `document`) and returns
/// the resolved tree, partial where issues were found.
YAML::Node validate_into(const Document& document, const KeyPath& path, const Schema& schema,
                         Diagnostics& diagnostics);

}  // namespace abq::config

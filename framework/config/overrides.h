// Command-line overrides: `--set key.path=value`, the value parsed as YAML (`4`, `true`, `[2, 3]`,
// `{a: 1}`), intermediate maps created as needed. Overridden nodes are positioned at the flag
// ("--set quant.weights.bits=5", file "<command line>") so later errors point at it.
#pragma once

#include <string>
#include <vector>

#include "framework/config/document.h"

namespace abq::config {

/// Applies one "key.path=value". Throws abq::ConfigError naming the assignment when it has no
/// '=', an empty key segment, a value that is not YAML, or a path through a non-map value.
void apply_override(Document& document, const std::string& assignment);

/// Applies all assignments in order; every malformed one is reported in one ConfigError.
void apply_overrides(Document& document, const std::vector<std::string>& assignments);

/// Resolves a dotted key against the document: an existing key that itself contains dots matches
/// whole ("sweep" keys), a number indexes an existing list ("overrides.0.bits"), other segments
/// are plain keys.
KeyPath resolve_dotted(const Document& document, const std::string& dotted);

/// Puts a deep copy of `value` at `path`, creating maps on the way; created keys and the value
/// get `where` as position. Returns "" on success, else why it cannot ("quant.bits is an integer,
/// not a map").
std::string assign(Document& document, const KeyPath& path, const YAML::Node& value,
                   const SourcePosition& where);

}  // namespace abq::config

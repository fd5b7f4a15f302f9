// Canonical form and hash of a config tree, and the pretty printer for `abq config FILE`.
//
// canonical_yaml is one line of flow YAML: map keys sorted bytewise and double-quoted, strings
// double-quoted (JSON escapes), integers in decimal, floats in shortest round-trip form with a
// decimal point (1.0, 0.001, 1.0e-07, .inf, .nan), booleans true/false, null as null. Comments,
// key order, block vs flow style and number spelling (1.0 vs 1.00, 0x10 vs 16) do not change it.
// Scalars are typed by the YAML 1.2 core schema; quoted scalars stay strings ("4" != 4).
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

namespace abq::config {

/// Deterministic one-line serialization; the input of config_hash.
std::string canonical_yaml(const YAML::Node& node);

/// Lower-case hex SHA-256 of canonical_yaml(node).
std::string config_hash(const YAML::Node& node);

/// Block-style YAML with sorted keys and normalized scalars, quoting strings only where a plain
/// scalar would be read back as another type or mis-parsed. Re-reading it gives the same hash.
std::string emit_yaml(const YAML::Node& node);

}  // namespace abq::config

// Scalar typing for YAML nodes: which of null / boolean / integer / float / string a scalar is,
// following the YAML 1.2 core schema (yaml-cpp leaves every scalar as text), and the normalized
// spelling used by validation, canonical form and hashing.
#pragma once

#include <cstdint>
#include <string>

#include <yaml-cpp/yaml.h>

namespace abq::config {

enum class ScalarKind { null, boolean, integer, floating, string };

/// A scalar read by the YAML 1.2 core schema. Quoted scalars and `!!str` are always strings.
/// Booleans are true|True|TRUE|false|False|FALSE only (`yes`/`on` are strings).
struct Scalar {
  ScalarKind kind = ScalarKind::null;
  bool boolean = false;
  int64_t integer = 0;   // kind == integer and !overflow
  bool overflow = false; // an integer literal outside int64 (kept in `text`, normalized)
  double number = 0.0;   // kind == integer or floating
  std::string text;      // string value, or the normalized spelling of the other kinds
};

/// Reads a null or scalar node. ABQ_ASSERTs on maps and lists.
Scalar read_scalar(const YAML::Node& node);

/// Classifies plain (unquoted) text as the YAML 1.2 core schema would.
Scalar read_plain(const std::string& text);

/// "integer", "float", "string", "boolean", "null", "list", "map".
const char* kind_name(const YAML::Node& node);

/// Shortest round-trip spelling with a decimal point: 1.0, 0.1, 1.0e-07, .inf, -.inf, .nan.
std::string format_double(double value);

/// A node holding a string that must stay a string when re-read (tagged as quoted).
YAML::Node string_node(const std::string& value);

/// A human rendering of a scalar for messages: integers/floats/booleans as written, strings quoted
/// with single quotes ('per_chanel'), null as "null".
std::string quote_scalar(const YAML::Node& node);

}  // namespace abq::config

#include "framework/config/options.h"

#include "framework/config/scalar.h"

namespace abq::config {

std::string option_value_text(const OptionValue& value) {
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return format_double(*d);
  return std::get<std::string>(value);
}

YAML::Node option_value_node(const OptionValue& value) {
  if (const auto* b = std::get_if<bool>(&value)) return YAML::Node(*b);
  if (const auto* i = std::get_if<int64_t>(&value)) return YAML::Node(*i);
  if (const auto* d = std::get_if<double>(&value)) return YAML::Node(format_double(*d));
  return string_node(std::get<std::string>(value));
}

OptionValue option_value_from_node(const YAML::Node& node, Schema::Kind kind) {
  switch (kind) {
    case Schema::Kind::boolean: return node.as<bool>();
    case Schema::Kind::integer: return node.as<int64_t>();
    case Schema::Kind::number: return node.as<double>();
    default: return node.as<std::string>();
  }
}

}  // namespace abq::config

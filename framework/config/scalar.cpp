#include "framework/config/scalar.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "framework/core/error.h"

namespace abq::config {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// [-+]?[0-9]+ ; 0o[0-7]+ ; 0x[0-9a-fA-F]+ (YAML 1.2 core schema, tag:yaml.org,2002:int).
bool parse_integer(const std::string& s, Scalar& out) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    const bool hex = s[1] == 'x';
    for (size_t i = 2; i < s.size(); ++i) {
      if (hex ? !is_hex(s[i]) : (s[i] < '0' || s[i] > '7')) return false;
    }
    errno = 0;
    unsigned long long v = std::strtoull(s.c_str() + 2, nullptr, hex ? 16 : 8);
    out.kind = ScalarKind::integer;
    if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX)) {
      out.overflow = true;
      out.number = static_cast<double>(v);
      out.text = s;
    } else {
      out.integer = static_cast<int64_t>(v);
      out.number = static_cast<double>(v);
      out.text = std::to_string(out.integer);
    }
    return true;
  }
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t j = i; j < s.size(); ++j) {
    if (!is_digit(s[j])) return false;
  }
  out.kind = ScalarKind::integer;
  errno = 0;
  long long v = std::strtoll(s.c_str(), nullptr, 10);
  if (errno == ERANGE) {
    // Keep the digits: sign (only '-'), no leading zeros.
    out.overflow = true;
    size_t first = i;
    while (first + 1 < s.size() && s[first] == '0') ++first;
    out.text = (s[0] == '-' ? "-" : "") + s.substr(first);
    out.number = std::strtod(s.c_str(), nullptr);
  } else {
    out.integer = v;
    out.number = static_cast<double>(v);
    out.text = std::to_string(v);
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? ; [-+]?\.(inf|Inf|INF) ; \.(nan|NaN|NAN)
bool parse_float(const std::string& s, Scalar& out) {
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  const std::string body = s.substr(i);
  const bool negative = s[0] == '-';
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    out.kind = ScalarKind::floating;
    out.number = negative ? -HUGE_VAL : HUGE_VAL;
    out.text = format_double(out.number);
    return true;
  }
  if (i == 0 && (body == ".nan" || body == ".NaN" || body == ".NAN")) {
    out.kind = ScalarKind::floating;
    out.number = std::nan("");
    out.text = format_double(out.number);
    return true;
  }
  size_t j = i, int_digits = 0, frac_digits = 0;
  while (j < s.size() && is_digit(s[j])) ++j, ++int_digits;
  if (j < s.size() && s[j] == '.') {
    ++j;
    while (j < s.size() && is_digit(s[j])) ++j, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    ++j;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    size_t exp_digits = 0;
    while (j < s.size() && is_digit(s[j])) ++j, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  if (j != s.size()) return false;
  out.kind = ScalarKind::floating;
  out.number = std::strtod(s.c_str(), nullptr);
  out.text = format_double(out.number);
  return true;
}

}  // namespace

Scalar read_plain(const std::string& s) {
  Scalar out;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    out.kind = ScalarKind::null;
    out.text = "null";
    return out;
  }
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    out.kind = ScalarKind::boolean;
    out.boolean = s[0] == 't' || s[0] == 'T';
    out.text = out.boolean ? "true" : "false";
    return out;
  }
  if (parse_integer(s, out) || parse_float(s, out)) return out;
  out = Scalar{};
  out.kind = ScalarKind::string;
  out.text = s;
  return out;
}

Scalar read_scalar(const YAML::Node& node) {
  ABQ_ASSERT(!node.IsMap() && !node.IsSequence(), "read_scalar on a collection");
  if (!node.IsDefined() || node.IsNull()) return read_plain("");
  const std::string& tag = node.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") {
    Scalar out;
    out.kind = ScalarKind::string;
    out.text = node.Scalar();
    return out;
  }
  return read_plain(node.Scalar());
}

const char* kind_name(const YAML::Node& node) {
  if (node.IsMap()) return "map";
  if (node.IsSequence()) return "list";
  switch (read_scalar(node).kind) {
    case ScalarKind::null: return "null";
    case ScalarKind::boolean: return "boolean";
    case ScalarKind::integer: return "integer";
    case ScalarKind::floating: return "float";
    case ScalarKind::string: return "string";
  }
  return "string";
}

std::string format_double(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value < 0 ? "-.inf" : ".inf";
  char buffer[40];
  // The shortest %.Ng that reads back to the same double (at most 17 significant digits).
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  std::string text = buffer;
  if (text.find_first_of(".") == std::string::npos) {
    size_t e = text.find_first_of("e");
    if (e == std::string::npos) {
      text += ".0";
    } else {
      text.insert(e, ".0");
    }
  }
  return text;
}

YAML::Node string_node(const std::string& value) {
  YAML::Node node(value);
  node.SetTag("!");
  return node;
}

std::string quote_scalar(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  Scalar s = read_scalar(node);
  if (s.kind == ScalarKind::string) return "'" + s.text + "'";
  if (s.kind == ScalarKind::null) return "null";
  return node.Scalar();
}

}  // namespace abq::config

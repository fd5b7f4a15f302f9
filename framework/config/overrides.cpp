#include "framework/config/overrides.h"

#include "framework/config/scalar.h"
#include "framework/config/yaml_guard.h"
#include "framework/core/error.h"

namespace abq::config {
namespace {

std::string trim(const std::string& s) {
  size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  size_t end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Looks a key up without creating it (non-const operator[] would insert a zombie entry).
YAML::Node child_of(const YAML::Node& map, const std::string& key) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.Scalar() == key) return it->second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string with_article(const YAML::Node& node) {
  const std::string kind = kind_name(node);
  return (kind == "integer" ? "an " : "a ") + kind;
}

}  // namespace

KeyPath resolve_dotted(const Document& document, const std::string& dotted) {
  const KeyPath segments = split_dotted(dotted);
  KeyPath out;
  YAML::Node node;
  node.reset(document.root());
  bool walking = true;  // false once the path leaves the existing tree
  size_t i = 0;
  while (i < segments.size()) {
    if (walking && node.IsMap()) {
      bool found = false;
      // Longest match first, so a key like "quant.weights.bits" inside `sweep:` is one segment.
      for (size_t k = segments.size(); k > i; --k) {
        std::string candidate = segments[i];
        for (size_t j = i + 1; j < k; ++j) candidate += "." + segments[j];
        YAML::Node child = child_of(node, candidate);
        if (child.IsDefined()) {
          out.push_back(candidate);
          node.reset(child);
          i = k;
          found = true;
          break;
        }
      }
      if (found) continue;
      out.push_back(segments[i++]);
      walking = false;
    } else if (walking && node.IsSequence() && all_digits(segments[i])) {
      size_t index = 0;
      if (!parse_index_digits(segments[i], index)) {
        out.push_back("[" + segments[i] + "]");  // beyond size_t: past the end; assign() says so
        walking = false;
        ++i;
        continue;
      }
      out.push_back(index_segment(index));
      if (index < node.size()) {
        node.reset(node[index]);
      } else {
        walking = false;
      }
      ++i;
    } else {
      out.push_back(segments[i++]);
      walking = false;
    }
  }
  return out;
}

std::string assign(Document& document, const KeyPath& path, const YAML::Node& value,
                   const SourcePosition& where) {
  ABQ_ASSERT(!path.empty(), "assign needs a key path");
  YAML::Node node;
  node.reset(document.root());
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& segment = path[i];
    const KeyPath here(path.begin(), path.begin() + static_cast<long>(i) + 1);
    const KeyPath parent(path.begin(), path.begin() + static_cast<long>(i));
    const bool last = i + 1 == path.size();
    if (!segment.empty() && segment[0] == '[') {
      if (!node.IsSequence()) return cat(format_path(parent), " is ", with_article(node), ", not a list");
      const std::string digits = segment.substr(1, segment.size() - 2);  // "[12]" -> "12"
      size_t index = 0;
      if (!parse_index_digits(digits, index) || index >= node.size()) {
        return cat(format_path(parent), " has ", node.size(), " items, no item ", digits);
      }
      if (last) {
        node[index] = YAML::Clone(value);
      } else {
        node.reset(node[index]);
      }
      continue;
    }
    // A null value (`kv:` left empty) becomes a map, as yaml-cpp's operator[] does.
    if (!node.IsMap() && !node.IsNull()) {
      return cat(format_path(parent), " is ", with_article(node), ", not a map");
    }
    const bool exists = node.IsMap() && child_of(node, segment).IsDefined();
    if (last) {
      node[segment] = YAML::Clone(value);
    } else if (!exists) {
      node[segment] = YAML::Node(YAML::NodeType::Map);
      document.set_value_position(here, where);
    }
    if (!exists) document.set_key_position(here, where);
    if (!last) node.reset(node[segment]);
  }
  document.erase_positions(path);
  document.set_positions_uniform(path, value, where);
  if (path.back()[0] != '[') document.set_key_position(path, where);
  return "";
}

void apply_override(Document& document, const std::string& assignment) {
  const std::string flag = "--set " + assignment;
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos) {
    throw ConfigError(cat("malformed --set '", assignment, "': expected key.path=value"));
  }
  const std::string key = trim(assignment.substr(0, eq));
  if (key.empty()) throw ConfigError(cat("malformed --set '", assignment, "': the key path before '=' is empty"));
  for (const auto& segment : split_dotted(key)) {
    if (segment.empty()) {
      throw ConfigError(cat("malformed --set '", assignment, "': empty segment in key path '", key, "'"));
    }
  }
  YAML::Node value;
  try {
    value.reset(YAML::Load(assignment.substr(eq + 1)));
  } catch (const YAML::ParserException& e) {
    throw ConfigError(cat("malformed --set '", assignment, "': the value is not valid YAML (", e.msg, ")"));
  }
  if (!value.IsDefined()) value.reset(YAML::Node(YAML::NodeType::Null));
  const KeyPath path = resolve_dotted(document, key);
  check_parsed_tree(value, {kCommandLine, flag, nullptr, path});
  SourcePosition where;
  where.file = kCommandLine;
  where.origin = flag;
  const std::string problem = assign(document, path, value, where);
  if (!problem.empty()) throw ConfigError(cat(flag, ": cannot set ", key, ": ", problem));
}

void apply_overrides(Document& document, const std::vector<std::string>& assignments) {
  std::string problems;
  for (const auto& assignment : assignments) {
    try {
      apply_override(document, assignment);
    } catch (const ConfigError& e) {
      problems += (problems.empty() ? "" : "\n") + e.message();
    }
  }
  if (!problems.empty()) throw ConfigError(problems);
}

}  // namespace abq::config

#include "framework/config/validate.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "framework/config/scalar.h"
#include "framework/core/error.h"
#include "framework/core/spellcheck.h"

namespace abq::config {
namespace {

using Kind = Schema::Kind;

std::string label_of(const KeyPath& path, const std::string& type_name = "") {
  std::string out = path.empty() ? "at top level" : "in " + format_path(path);
  if (!type_name.empty()) out += " (" + type_name + ")";
  return out;
}

KeyPath child_path(const KeyPath& path, const std::string& key) {
  KeyPath out = path;
  out.push_back(key);
  return out;
}

// "integer 4", "string 'four'", "a list", "null": what the user wrote, for "got ..." messages.
std::string found(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  const Scalar s = read_scalar(node);
  switch (s.kind) {
    case ScalarKind::null: return "null";
    case ScalarKind::boolean: return "boolean " + node.Scalar();
    case ScalarKind::integer: return "integer " + node.Scalar();
    case ScalarKind::floating: return "float " + node.Scalar();
    case ScalarKind::string: return "string '" + s.text + "'";
  }
  return "";
}

std::string expected(const Schema& s) {
  switch (s.kind()) {
    case Kind::any: return "any value";
    case Kind::boolean: return "a boolean (true or false)";
    case Kind::integer: return "an integer";
    case Kind::number: return "a number";
    case Kind::string: return "a string";
    case Kind::enumeration: return "one of " + join(s.values());
    case Kind::list: return "a list";
    case Kind::object:
    case Kind::map_of: return "a map";
    case Kind::tagged: return "a type name or a map with '" + s.tag_key() + "'";
  }
  return "";
}

bool in_range(double v, const Schema& s) {
  if (s.has_min() && !(s.min_exclusive() ? v > s.min_value() : v >= s.min_value())) return false;
  if (s.has_max() && !(s.max_exclusive() ? v < s.max_value() : v <= s.max_value())) return false;
  return true;
}

class Validator {
 public:
  Validator(const Document& document, Diagnostics& diagnostics, bool from_default)
      : document_(document), diagnostics_(diagnostics), from_default_(from_default) {}

  YAML::Node check(const YAML::Node& node, const Schema& s, const KeyPath& path) {
    switch (s.kind()) {
      case Kind::any: return YAML::Clone(node);
      case Kind::boolean: return check_boolean(node, s, path);
      case Kind::integer:
      case Kind::number: return check_number(node, s, path);
      case Kind::string: return check_string(node, s, path);
      case Kind::enumeration: return check_enumeration(node, s, path);
      case Kind::list: return check_list(node, s, path);
      case Kind::object:
        if (!node.IsMap()) return wrong_type(node, s, path);
        return check_object(node, s, path, "", "");
      case Kind::map_of: return check_map_of(node, s, path);
      case Kind::tagged: return check_tagged(node, s, path);
    }
    return YAML::Node();
  }

  /// A key of an object that is absent (or null, then `null_value` points at it). Returns true
  /// and sets `out` when the key gets a value.
  bool resolve_absent(const Schema& f, const KeyPath& parent, const std::string& key, const std::string& label,
                      const YAML::Node* null_value, YAML::Node& out) {
    const KeyPath path = child_path(parent, key);
    if (f.has_default()) {
      out.reset(fill_default(f, path));
      return true;
    }
    if (f.presence() == Schema::Presence::optional) return false;
    const bool fillable =
        f.kind() == Kind::object || (f.kind() == Kind::tagged && !f.default_type_name().empty());
    if (f.presence() == Schema::Presence::implicit && fillable) {
      Diagnostics scratch(document_);
      Validator inner(document_, scratch, from_default_);
      YAML::Node resolved = inner.check(YAML::Node(YAML::NodeType::Map), f, path);
      if (scratch.empty()) {
        out.reset(resolved);
        return true;
      }
    }
    if (null_value) {
      wrong_type(*null_value, f, path);
    } else {
      std::string hint = key + ": " + f.summary();
      if (!f.doc().empty()) hint += "; " + f.doc();
      diagnostics_.add(parent, true, cat("missing required key '", key, "' ", label), hint);
    }
    return false;
  }

 private:
  YAML::Node wrong_type(const YAML::Node& node, const Schema& s, const KeyPath& path) {
    std::string hint;
    const bool scalar = !node.IsMap() && !node.IsSequence();
    const Scalar value = scalar ? read_scalar(node) : Scalar{};
    if (s.kind() == Kind::string && scalar && value.kind != ScalarKind::null) {
      hint = cat("quote it (\"", node.Scalar(), "\") if you mean the string");
    } else if (s.kind() == Kind::boolean && value.kind == ScalarKind::string) {
      hint = "write true or false";
    } else if (s.kind() == Kind::integer && value.kind == ScalarKind::floating) {
      hint = "write it without a decimal point";
    } else if (s.kind() == Kind::tagged) {
      hint = "allowed types: " + join(s.names());
    }
    diagnostics_.add(path, false,
                     cat("wrong type for ", format_path(path), ": expected ", expected(s), ", got ", found(node)),
                     hint);
    return YAML::Node();
  }

  YAML::Node fill_default(const Schema& f, const KeyPath& path) {
    Diagnostics scratch(document_);
    Validator inner(document_, scratch, true);
    YAML::Node resolved = inner.check(f.default_node(), f, path);
    ABQ_ASSERT(scratch.empty(), "the default of ", format_path(path), " does not match its schema: ",
               scratch.format());
    return resolved;
  }

  YAML::Node check_boolean(const YAML::Node& node, const Schema& s, const KeyPath& path) {
    if (node.IsMap() || node.IsSequence()) return wrong_type(node, s, path);
    const Scalar value = read_scalar(node);
    if (value.kind != ScalarKind::boolean) return wrong_type(node, s, path);
    return YAML::Node(value.boolean);
  }

  YAML::Node check_number(const YAML::Node& node, const Schema& s, const KeyPath& path) {
    if (node.IsMap() || node.IsSequence()) return wrong_type(node, s, path);
    const Scalar value = read_scalar(node);
    const bool integer = value.kind == ScalarKind::integer;
    if (!integer && !(s.kind() == Kind::number && value.kind == ScalarKind::floating)) {
      return wrong_type(node, s, path);
    }
    if (s.kind() == Kind::integer && value.overflow) {
      diagnostics_.add(path, false, cat("integer ", node.Scalar(), " for ", format_path(path),
                                        " does not fit in 64 bits"));
      return YAML::Node();
    }
    if (!in_range(value.number, s)) {
      diagnostics_.add(path, false, cat("value ", node.Scalar(), " for ", format_path(path),
                                        " is out of range ", s.range_text()));
      return YAML::Node();
    }
    if (s.kind() == Kind::integer) return YAML::Node(value.integer);
    return YAML::Node(format_double(value.number));
  }

  YAML::Node check_string(const YAML::Node& node, const Schema& s, const KeyPath& path) {
    if (node.IsMap() || node.IsSequence()) return wrong_type(node, s, path);
    const Scalar value = read_scalar(node);
    // Defaults written in C++ (default_value("4")) reach here untagged; they are strings by intent.
    if (from_default_ && value.kind != ScalarKind::null) return string_node(node.Scalar());
    if (value.kind != ScalarKind::string) return wrong_type(node, s, path);
    return string_node(value.text);
  }

  YAML::Node check_enumeration(const YAML::Node& node, const Schema& s, const KeyPath& path) {
    if (node.IsMap() || node.IsSequence() || read_scalar(node).kind == ScalarKind::null) {
      return wrong_type(node, s, path);
    }
    const std::string& text = node.Scalar();
    if (std::find(s.values().begin(), s.values().end(), text) != s.values().end()) return string_node(text);
    diagnostics_.add(path, false, cat("bad value '", text, "' for ", format_path(path)),
                     suggestion_hint(text, s.values()));
    return YAML::Node();
  }

  YAML::Node check_list(const YAML::Node& node, const Schema& s, const KeyPath& path) {
    if (!node.IsSequence()) return wrong_type(node, s, path);
    const size_t n = node.size();
    if (n < s.min_items() || n > s.max_items()) {
      std::string bound;
      if (s.min_items() == s.max_items()) {
        bound = cat("exactly ", s.min_items());
      } else if (n < s.min_items()) {
        bound = cat("at least ", s.min_items());
      } else {
        bound = cat("at most ", s.max_items());
      }
      diagnostics_.add(path, false, cat(format_path(path), " has ", n, n == 1 ? " item" : " items",
                                        "; expected ", bound));
    }
    YAML::Node out(YAML::NodeType::Sequence);
    for (size_t i = 0; i < n; ++i) out.push_back(check(node[i], s.element(), child_path(path, index_segment(i))));
    return out;
  }

  YAML::Node check_map_of(const YAML::Node& node, const Schema& s, const KeyPath& path) {
    if (!node.IsMap()) return wrong_type(node, s, path);
    YAML::Node out(YAML::NodeType::Map);
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.Scalar();
      out[key] = check(it->second, s.element(), child_path(path, key));
    }
    return out;
  }

  YAML::Node check_object(const YAML::Node& node, const Schema& s, const KeyPath& path,
                          const std::string& type_name, const std::string& tag_key) {
    const std::string label = label_of(path, type_name);
    const size_t issues_before = diagnostics_.issues().size();
    std::vector<std::string> allowed = s.names();
    if (!tag_key.empty()) {
      allowed.push_back(tag_key);
      std::sort(allowed.begin(), allowed.end());
    }
    std::map<std::string, YAML::Node> resolved;
    std::map<std::string, YAML::Node> nulls;  // present but null: resolved as absent below
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (!tag_key.empty() && key == tag_key) continue;
      const KeyPath child = child_path(path, key);
      const Schema* f = s.field(key);
      if (!f) {
        diagnostics_.add(child, true, cat("unknown key '", key, "' ", label), suggestion_hint(key, allowed));
        continue;
      }
      if (it->second.IsNull() && f->kind() != Kind::any) {
        nulls.emplace(key, it->second);
        continue;
      }
      resolved.emplace(key, check(it->second, *f, child));
    }
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& [key, f] : s.fields()) {
      auto present = resolved.find(key);
      if (present != resolved.end()) {
        out[key] = present->second;
        continue;
      }
      auto null_value = nulls.find(key);
      YAML::Node value;
      if (resolve_absent(f, path, key, label, null_value == nulls.end() ? nullptr : &null_value->second, value)) {
        out[key] = value;
      }
    }
    if (diagnostics_.issues().size() == issues_before) check_rules(out, s, path);
    return out;
  }

  // Cross-field rules see a cleanly resolved object only: a rule never has to guess at a key that
  // is missing or mistyped (that is reported already). Messages start with the key's full path.
  void check_rules(const YAML::Node& resolved, const Schema& s, const KeyPath& path) {
    for (const auto& [doc, rule] : s.rules())
      for (const auto& problem : rule(resolved)) {
        KeyPath at = path;
        at.insert(at.end(), problem.key.begin(), problem.key.end());
        diagnostics_.add(at, false, format_path(at) + ": " + problem.message, problem.hint);
      }
  }

  YAML::Node check_tagged(const YAML::Node& node, const Schema& s, const KeyPath& path) {
    const std::string& tag = s.tag_key();
    std::string type;
    KeyPath type_path = child_path(path, tag);
    YAML::Node body(YAML::NodeType::Map);
    if (node.IsScalar() && read_scalar(node).kind == ScalarKind::string) {
      type = node.Scalar();  // shorthand: `quantizer: rtn`
      type_path = path;
    } else if (node.IsMap()) {
      body.reset(node);
      const YAML::Node& const_node = node;
      const YAML::Node named = const_node[tag];
      if (named.IsDefined() && !named.IsNull()) {
        if (!named.IsScalar()) {
          diagnostics_.add(type_path, false, cat("wrong type for ", format_path(type_path),
                                                 ": expected a type name, got ", found(named)),
                           "allowed types: " + join(s.names()));
          return YAML::Node();
        }
        type = named.Scalar();
      } else if (!s.default_type_name().empty()) {
        type = s.default_type_name();
      } else {
        diagnostics_.add(path, true, cat("missing required key '", tag, "' ", label_of(path)),
                         "allowed types: " + join(s.names()));
        return YAML::Node();
      }
    } else {
      return wrong_type(node, s, path);
    }
    const Schema* variant = s.field(type);
    if (!variant) {
      diagnostics_.add(type_path, false, cat("unknown type '", type, "' for ", format_path(path)),
                       suggestion_hint(type, s.names(), "allowed types"));
      return YAML::Node();
    }
    YAML::Node fields = check_object(body, *variant, path, type, tag);
    YAML::Node out(YAML::NodeType::Map);
    out[tag] = string_node(type);
    for (auto it = fields.begin(); it != fields.end(); ++it) out[it->first.Scalar()] = it->second;
    return out;
  }

  const Document& document_;
  Diagnostics& diagnostics_;
  bool from_default_;
};

}  // namespace

YAML::Node validate_into(const Document& document, const KeyPath& path, const Schema& schema,
                         Diagnostics& diagnostics) {
  Validator validator(document, diagnostics, false);
  const YAML::Node node = document.find(path);
  const bool absent = !node.IsDefined() || (node.IsNull() && schema.kind() != Kind::any);
  if (!absent || path.empty()) return validator.check(node, schema, path);
  const KeyPath parent(path.begin(), path.end() - 1);
  YAML::Node out;
  if (!validator.resolve_absent(schema, parent, path.back(), label_of(parent),
                                node.IsDefined() ? &node : nullptr, out)) {
    return YAML::Node();
  }
  return out;
}

YAML::Node validate_at(const Document& document, const KeyPath& path, const Schema& schema) {
  Diagnostics diagnostics(document);
  YAML::Node resolved = validate_into(document, path, schema, diagnostics);
  diagnostics.throw_if_any();
  return resolved;
}

YAML::Node validate(const Document& document, const Schema& schema) {
  return validate_at(document, {}, schema);
}

}  // namespace abq::config

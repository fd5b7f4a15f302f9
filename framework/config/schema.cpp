#include "framework/config/schema.h"

#include <algorithm>
#include <cmath>

#include "framework/config/canonical.h"
#include "framework/config/scalar.h"
#include "framework/core/error.h"
#include "framework/core/spellcheck.h"

namespace abq::config {

Schema Schema::any() { return Schema(Kind::any); }
Schema Schema::boolean() { return Schema(Kind::boolean); }
Schema Schema::integer() { return Schema(Kind::integer); }
Schema Schema::number() { return Schema(Kind::number); }
Schema Schema::string() { return Schema(Kind::string); }

Schema Schema::enumeration(std::vector<std::string> values) {
  ABQ_ASSERT(!values.empty(), "an enumeration needs at least one value");
  Schema s(Kind::enumeration);
  s.values_ = std::move(values);
  return s;
}

Schema Schema::list(Schema item) {
  Schema s(Kind::list);
  s.element_ = std::make_shared<const Schema>(std::move(item));
  return s;
}

Schema Schema::object(Fields fields) {
  Schema s(Kind::object);
  for (auto& [key, field] : fields) s.add(key, std::move(field));
  return s;
}

Schema Schema::map_of(Schema value) {
  Schema s(Kind::map_of);
  s.element_ = std::make_shared<const Schema>(std::move(value));
  return s;
}

Schema Schema::tagged(std::string tag_key, Fields types) {
  Schema s(Kind::tagged);
  s.tag_key_ = std::move(tag_key);
  for (auto& [name, type] : types) s.add(name, std::move(type));
  return s;
}

Schema& Schema::min(double lo) {
  ABQ_ASSERT(kind_ == Kind::integer || kind_ == Kind::number, "range on a non-numeric schema");
  has_min_ = true;
  min_ = lo;
  return *this;
}

Schema& Schema::max(double hi) {
  ABQ_ASSERT(kind_ == Kind::integer || kind_ == Kind::number, "range on a non-numeric schema");
  has_max_ = true;
  max_ = hi;
  return *this;
}

Schema& Schema::exclusive_min() {
  ABQ_ASSERT(has_min_, "exclusive_min() needs a lower bound first");
  min_exclusive_ = true;
  return *this;
}

Schema& Schema::exclusive_max() {
  ABQ_ASSERT(has_max_, "exclusive_max() needs an upper bound first");
  max_exclusive_ = true;
  return *this;
}

Schema& Schema::min_size(size_t n) {
  ABQ_ASSERT(kind_ == Kind::list, "min_size on a non-list schema");
  min_size_ = n;
  return *this;
}

Schema& Schema::max_size(size_t n) {
  ABQ_ASSERT(kind_ == Kind::list, "max_size on a non-list schema");
  max_size_ = n;
  return *this;
}

Schema& Schema::default_value(const YAML::Node& value) {
  ABQ_ASSERT(presence_ != Presence::required, "a required key cannot have a default");
  has_default_ = true;
  default_ = std::make_shared<const YAML::Node>(YAML::Clone(value));
  return *this;
}

Schema& Schema::required() {
  ABQ_ASSERT(!has_default_, "a key with a default cannot be required");
  presence_ = Presence::required;
  return *this;
}

Schema& Schema::optional() {
  presence_ = Presence::optional;
  return *this;
}

Schema& Schema::doc(std::string text) {
  doc_ = std::move(text);
  return *this;
}

Schema& Schema::add(std::string key, Schema field) {
  ABQ_ASSERT(kind_ == Kind::object || kind_ == Kind::tagged, "add() on a schema that is not an object");
  ABQ_ASSERT(kind_ != Kind::tagged || field.kind_ == Kind::object, "the type '", key,
             "' of a tagged schema must be an object");
  ABQ_ASSERT(kind_ != Kind::tagged || !field.field(tag_key_), "the type '", key, "' declares the tag key '",
             tag_key_, "' itself");
  for (auto& entry : fields_) {
    if (entry.first == key) {
      entry.second = std::move(field);
      return *this;
    }
  }
  fields_.emplace_back(std::move(key), std::move(field));
  return *this;
}

Schema& Schema::default_type(std::string type) {
  ABQ_ASSERT(kind_ == Kind::tagged, "default_type() on a schema that is not tagged");
  default_type_ = std::move(type);
  return *this;
}

const YAML::Node& Schema::default_node() const {
  static const YAML::Node none;
  return default_ ? *default_ : none;
}

const Schema& Schema::element() const {
  ABQ_ASSERT(element_, "element() on a schema that is neither a list nor a map_of");
  return *element_;
}

const Schema* Schema::field(const std::string& name) const {
  for (const auto& entry : fields_) {
    if (entry.first == name) return &entry.second;
  }
  return nullptr;
}

std::vector<std::string> Schema::names() const {
  std::vector<std::string> out;
  for (const auto& entry : fields_) out.push_back(entry.first);
  std::sort(out.begin(), out.end());
  return out;
}

std::string Schema::range_text() const {
  if (!has_min_ && !has_max_) return "";
  auto bound = [&](double v) {
    if (kind_ == Kind::integer && std::isfinite(v)) return std::to_string(static_cast<long long>(v));
    return format_double(v);
  };
  std::string out = (has_min_ && !min_exclusive_) ? "[" : "(";
  out += has_min_ ? bound(min_) : "-inf";
  out += ", ";
  out += has_max_ ? bound(max_) : "inf";
  out += (has_max_ && !max_exclusive_) ? "]" : ")";
  return out;
}

std::string Schema::summary() const {
  switch (kind_) {
    case Kind::any: return "any value";
    case Kind::boolean: return "boolean";
    case Kind::integer:
    case Kind::number: {
      std::string out = kind_ == Kind::integer ? "integer" : "number";
      if (has_min_ || has_max_) out += " in " + range_text();
      return out;
    }
    case Kind::string: return "string";
    case Kind::enumeration: return "one of " + join(values_);
    case Kind::list: {
      std::string out = "list of " + element_->summary();
      if (min_size_ > 0 && max_size_ == min_size_) {
        out += cat(", exactly ", min_size_, min_size_ == 1 ? " item" : " items");
      } else {
        if (min_size_ > 0) out += cat(", at least ", min_size_, min_size_ == 1 ? " item" : " items");
        if (max_size_ != SIZE_MAX) out += cat(", at most ", max_size_, max_size_ == 1 ? " item" : " items");
      }
      return out;
    }
    case Kind::object: return "map";
    case Kind::map_of: return "map of name -> " + element_->summary();
    case Kind::tagged: {
      std::string out = "one of the types " + join(names()) + " (chosen by '" + tag_key_ + "')";
      if (!default_type_.empty()) out += ", default type " + default_type_;
      return out;
    }
  }
  return "";
}

Schema& Schema::rule(std::string doc, Rule rule) {
  ABQ_ASSERT(kind_ == Kind::object, "rule() on a non-object schema");
  rules_.emplace_back(std::move(doc), std::move(rule));
  return *this;
}

void Schema::describe_into(std::string& out, size_t indent) const {
  const std::string pad(indent, ' ');
  if (kind_ == Kind::object) {
    for (const auto& [doc, rule] : rules_) out += pad + "rule: " + doc + "\n";
    for (const auto& [key, field] : fields_) {
      out += pad + key + ": " + field.summary();
      if (field.has_default_) {
        std::string text = emit_yaml(*field.default_);
        if (!text.empty() && text.back() == '\n') text.pop_back();
        if (text.find('\n') != std::string::npos) text = canonical_yaml(*field.default_);
        // yaml-cpp writes the double 1.0 as "1"; show it as the number it will resolve to.
        if (field.kind_ == Kind::number && field.default_->IsScalar()) {
          const Scalar value = read_scalar(*field.default_);
          if (value.kind == ScalarKind::integer || value.kind == ScalarKind::floating) {
            text = format_double(value.number);
          }
        }
        out += "; default " + text;
      } else if (field.presence_ == Presence::required) {
        out += "; required";
      } else if (field.presence_ == Presence::optional) {
        out += "; optional";
      }
      out += "\n";
      if (!field.doc_.empty()) out += pad + "    " + field.doc_ + "\n";
      field.describe_into(out, indent + 2);
    }
  } else if (kind_ == Kind::tagged) {
    for (const auto& [name, type] : fields_) {
      out += pad + tag_key_ + ": " + name + (name == default_type_ ? " (default)" : "") + "\n";
      if (!type.doc_.empty()) out += pad + "    " + type.doc_ + "\n";
      type.describe_into(out, indent + 2);
    }
  } else if (kind_ == Kind::list || kind_ == Kind::map_of) {
    if (element_->kind_ == Kind::object || element_->kind_ == Kind::tagged) {
      out += pad + (kind_ == Kind::list ? "each item:" : "each value:") + "\n";
      element_->describe_into(out, indent + 2);
    }
  }
}

std::string Schema::describe() const {
  std::string out;
  if (kind_ != Kind::object) {
    out += summary() + "\n";
    if (!doc_.empty()) out += "    " + doc_ + "\n";
  }
  describe_into(out, 0);
  return out;
}

}  // namespace abq::config

// Schema: a dynamic description of the keys a config may hold, built by each component for its
// own options and assembled into the experiment schema elsewhere. One declaration drives
// validation (validate.h), defaults, and `abq describe` (describe()).
//
//   Schema quant = Schema::object({
//     {"bits", Schema::integer().range(1, 16).default_value(16).doc("bit width; 16 = not quantized")},
//     {"granularity", Schema::enumeration({"per_tensor", "per_channel"}).default_value("per_channel")},
//     {"clip_ratio", Schema::number().range(0.0, 1.0).exclusive_min().default_value(1.0)},
//     {"path", Schema::string().required()},
//     {"seed", Schema::integer().optional()},
//   });
//   Schema quantizer = Schema::tagged("type", {{"rtn", rtn}, {"gptq", gptq}}).default_type("rtn");
//
// Presence of an object's key when it is absent (or null) in the document:
//   default_value(v)  -> v is filled in
//   optional()        -> stays absent
//   required()        -> error "missing required key"
//   none of these     -> objects, and tagged schemas with a default type, are filled from their
//                        own defaults when that needs no user value; anything else is required.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace abq::config {

/// A problem a cross-field rule found in a resolved object: the key at fault, relative to the
/// object (empty: the object itself), and what is wrong with it.
struct RuleProblem {
  std::vector<std::string> key;
  std::string message;
  std::string hint;
};

class Schema {
 public:
  /// A cross-field rule of an object: runs on the resolved object (defaults filled) once its keys
  /// validated cleanly; every problem is reported at its key, collected with the rest.
  using Rule = std::function<std::vector<RuleProblem>(const YAML::Node& resolved)>;

  enum class Kind { any, boolean, integer, number, string, enumeration, list, object, map_of, tagged };
  enum class Presence { implicit, required, optional };
  using Fields = std::vector<std::pair<std::string, Schema>>;

  /// Anything, kept as written.
  static Schema any();
  /// true or false only (also True/TRUE/False/FALSE); yes/no/on/off are strings.
  static Schema boolean();
  /// A whole number; a float (even 4.0) is refused.
  static Schema integer();
  /// A float or an integer (normalized to a float: 1 -> 1.0).
  static Schema number();
  /// A string; an unquoted number or boolean is refused (quote it).
  static Schema string();
  /// One of the given words, compared as text.
  static Schema enumeration(std::vector<std::string> values);
  static Schema list(Schema item);
  /// A map with exactly these keys (any subset, per presence rules); order is the doc order.
  static Schema object(Fields fields);
  /// A map with free-form keys, every value checked against `value`.
  static Schema map_of(Schema value);
  /// A map whose `tag_key` names one of `types`; the rest is checked against that type's object
  /// schema. A bare string is shorthand for {tag_key: string}.
  static Schema tagged(std::string tag_key, Fields types);

  /// Inclusive bounds (integer and number); exclusive_min/max make either end open.
  template <typename Lo, typename Hi>
  Schema& range(Lo lo, Hi hi) {
    return min(static_cast<double>(lo)).max(static_cast<double>(hi));
  }
  Schema& min(double lo);
  Schema& max(double hi);
  Schema& exclusive_min();
  Schema& exclusive_max();
  /// List length bounds (inclusive).
  Schema& min_size(size_t n);
  Schema& max_size(size_t n);

  /// Value used when the key is absent; validated against this schema on use.
  Schema& default_value(const YAML::Node& value);
  template <typename T>
  Schema& default_value(const T& value) {
    return default_value(YAML::Node(value));
  }
  Schema& required();
  Schema& optional();
  Schema& doc(std::string text);

  /// Objects: adds (or replaces) a key. Tagged: adds (or replaces) a type.
  Schema& add(std::string key, Schema field);
  /// Tagged: the type used when the tag key is absent.
  Schema& default_type(std::string type);
  /// Objects: adds a cross-field rule; `doc` is its one-line statement for describe().
  Schema& rule(std::string doc, Rule rule);
  const std::vector<std::pair<std::string, Rule>>& rules() const { return rules_; }

  Kind kind() const { return kind_; }
  Presence presence() const { return presence_; }
  const std::string& doc() const { return doc_; }
  bool has_default() const { return has_default_; }
  /// The default as given (no defaults of nested objects filled in).
  const YAML::Node& default_node() const;
  bool has_min() const { return has_min_; }
  bool has_max() const { return has_max_; }
  double min_value() const { return min_; }
  double max_value() const { return max_; }
  bool min_exclusive() const { return min_exclusive_; }
  bool max_exclusive() const { return max_exclusive_; }
  size_t min_items() const { return min_size_; }
  size_t max_items() const { return max_size_; }  // SIZE_MAX when unbounded
  const std::vector<std::string>& values() const { return values_; }  // enumeration
  /// List item or map_of value schema.
  const Schema& element() const;
  /// Object keys or tagged types, in declaration order.
  const Fields& fields() const { return fields_; }
  /// The object key or tagged type named `name`, nullptr when there is none.
  const Schema* field(const std::string& name) const;
  const std::string& tag_key() const { return tag_key_; }
  const std::string& default_type_name() const { return default_type_; }
  /// Object keys (or type names), sorted: the "allowed" list of messages.
  std::vector<std::string> names() const;

  /// One line: "integer in [1, 16]", "one of per_tensor, per_channel", "list of string", ...
  std::string summary() const;
  /// The interval text: "[1, 16]", "(0.0, 1.0]", "[1, inf)"; "" when unbounded.
  std::string range_text() const;
  /// Human documentation: one entry per key (type, default, range, doc), nested indented.
  std::string describe() const;

 private:
  explicit Schema(Kind kind) : kind_(kind) {}
  void describe_into(std::string& out, size_t indent) const;

  Kind kind_;
  Presence presence_ = Presence::implicit;
  std::string doc_;
  bool has_default_ = false;
  std::shared_ptr<const YAML::Node> default_;  // immutable once set: Schema copies share it
  bool has_min_ = false, has_max_ = false, min_exclusive_ = false, max_exclusive_ = false;
  double min_ = 0.0, max_ = 0.0;
  size_t min_size_ = 0, max_size_ = SIZE_MAX;
  std::vector<std::string> values_;
  std::shared_ptr<const Schema> element_;  // list item / map_of value
  Fields fields_;                          // object keys / tagged types
  std::string tag_key_;
  std::string default_type_;
  std::vector<std::pair<std::string, Rule>> rules_;  // objects: cross-field rules with their docs
};

}  // namespace abq::config

// OptionSet<T>: the one declaration of an options struct. Next to the struct, each field is
// declared once — its key, the member it fills, its type, range and doc line (a Schema without a
// default) — and the struct's own default member values are the defaults. Cross-field rules are
// declared in the same place. Everything else is derived from it:
//
//   schema()        validation with file:line:column, defaults, `abq describe`, rules reported at
//                   their keys and collected with every other problem (validate.h)
//   decode()        the typed struct from a validated YAML tree
//   values()        the typed (key, value) list that JSON files and fingerprints are written from
//   fingerprint()   "key=value ..." over every field in declaration order (resume fingerprints)
//   check()         the rules on a struct built in code (guards of the numerical code)
//
//   const config::OptionSet<GptqOptions>& gptq_options() {
//     static const auto set = config::OptionSet<GptqOptions>()
//         .field("block_size", &GptqOptions::block_size, Schema::integer().range(1, 1 << 20).doc("..."))
//         .field("act_order", &GptqOptions::act_order, Schema::boolean().doc("..."));
//     return set;
//   }
//
// Keys may be dotted ("let.pairs.qkv"): the schema nests objects, the accessor form of field()
// reaches nested members. Supported member types: bool, integers, double, std::string, and enums
// through enumeration(). A field whose schema says required() or optional() gets no default
// (an absent optional key leaves the struct's value).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "framework/config/document.h"
#include "framework/config/schema.h"

namespace abq::config {

/// A field's value outside its struct.
using OptionValue = std::variant<bool, int64_t, double, std::string>;

/// "true", "128", "0.01" (shortest round-trip form), "per_group".
std::string option_value_text(const OptionValue& value);
/// The YAML scalar of a value (strings tagged so they stay strings).
YAML::Node option_value_node(const OptionValue& value);
/// Reads `node` (validated against a schema of `kind`) as an OptionValue of that kind.
OptionValue option_value_from_node(const YAML::Node& node, Schema::Kind kind);

template <typename T>
class OptionSet {
 public:
  struct Field {
    std::string key;
    Schema schema;  // no default; schema() adds the struct's
    std::function<OptionValue(const T&)> get;
    std::function<void(T&, const OptionValue&)> set;
  };
  /// Fills `problems` (keys relative to the options object) for a struct that breaks the rule.
  using Rule = std::function<void(const T&, std::vector<RuleProblem>& problems)>;

  /// A field stored in `member` (bool, integer, double or std::string).
  template <typename M>
  OptionSet& field(std::string key, M T::*member, Schema schema) {
    return field<M>(std::move(key), [member](T& t) -> M& { return t.*member; }, std::move(schema));
  }

  /// A field reached through `access` ([](T& t) -> M& { return t.pairs.qkv; }), for nested members.
  template <typename M, typename Access>
  OptionSet& field(std::string key, Access access, Schema schema) {
    Field f{std::move(key), std::move(schema), nullptr, nullptr};
    f.get = [access](const T& t) { return to_value(access(const_cast<T&>(t))); };
    f.set = [access](T& t, const OptionValue& v) { access(t) = from_value<M>(v); };
    fields_.push_back(std::move(f));
    return *this;
  }

  /// An enum field written as one of `names` (each name with its enum value).
  template <typename E>
  OptionSet& enumeration(std::string key, E T::*member, std::vector<std::pair<std::string, E>> names, std::string doc) {
    std::vector<std::string> words;
    for (const auto& [word, value] : names) words.push_back(word);
    Field f{std::move(key), Schema::enumeration(words).doc(std::move(doc)), nullptr, nullptr};
    f.get = [member, names](const T& t) -> OptionValue {
      for (const auto& [word, value] : names)
        if (t.*member == value) return word;
      return names.front().first;
    };
    f.set = [member, names](T& t, const OptionValue& v) {
      for (const auto& [word, value] : names)
        if (std::get<std::string>(v) == word) t.*member = value;
    };
    fields_.push_back(std::move(f));
    return *this;
  }

  OptionSet& rule(std::string doc, Rule rule) {
    rules_.emplace_back(std::move(doc), std::move(rule));
    return *this;
  }

  const std::vector<Field>& fields() const { return fields_; }

  /// The validation schema, each field defaulting to its value in `defaults`, with the rules.
  Schema schema(const T& defaults = T{}) const {
    Schema root = build(&defaults);
    for (const auto& [doc, rule] : rules_) {
      const OptionSet self = *this;
      root.rule(doc, [self, defaults, rule = rule](const YAML::Node& resolved) {
        std::vector<RuleProblem> problems;
        rule(self.decode(resolved, defaults), problems);
        return problems;
      });
    }
    return root;
  }

  /// Every key optional and without a default (a partial struct laid over another, e.g. overrides).
  Schema partial_schema() const { return build(nullptr); }

  /// `base` with every key present in `node` (a tree validated by schema() or partial_schema()).
  T decode(const YAML::Node& node, T base = T{}) const {
    for (const auto& f : fields_) {
      const YAML::Node value = find(node, f.key);
      if (value.IsDefined() && !value.IsNull()) f.set(base, option_value_from_node(value, f.schema.kind()));
    }
    return base;
  }

  /// Every field's value in declaration order.
  std::vector<std::pair<std::string, OptionValue>> values(const T& value) const {
    std::vector<std::pair<std::string, OptionValue>> out;
    for (const auto& f : fields_) out.emplace_back(f.key, f.get(value));
    return out;
  }

  /// `base` with the given values set (keys must be declared fields; others are ignored).
  T from_values(const std::vector<std::pair<std::string, OptionValue>>& values, T base = T{}) const {
    for (const auto& [key, v] : values)
      for (const auto& f : fields_)
        if (f.key == key) f.set(base, v);
    return base;
  }

  /// The options as a YAML map (nested for dotted keys).
  YAML::Node encode(const T& value) const {
    YAML::Node root(YAML::NodeType::Map);
    for (const auto& f : fields_) {
      const auto path = split_dotted(f.key);
      YAML::Node node = root;
      for (size_t i = 0; i + 1 < path.size(); ++i) {
        if (!node[path[i]]) node[path[i]] = YAML::Node(YAML::NodeType::Map);
        node.reset(node[path[i]]);
      }
      node[path.back()] = option_value_node(f.get(value));
    }
    return root;
  }

  std::string fingerprint(const T& value) const {
    std::string out;
    for (const auto& f : fields_) out += (out.empty() ? "" : " ") + f.key + "=" + option_value_text(f.get(value));
    return out;
  }

  /// Range checks of every numeric field; when they pass, the rules (which, as in validation, may
  /// assume every field in range).
  std::vector<RuleProblem> check(const T& value) const {
    std::vector<RuleProblem> problems;
    for (const auto& f : fields_) check_range(f, f.get(value), problems);
    if (!problems.empty()) return problems;
    for (const auto& [doc, rule] : rules_) rule(value, problems);
    return problems;
  }

 private:
  template <typename M>
  static OptionValue to_value(const M& m) {
    if constexpr (std::is_same_v<M, bool>) return m;
    else if constexpr (std::is_integral_v<M>) return static_cast<int64_t>(m);
    else if constexpr (std::is_floating_point_v<M>) return static_cast<double>(m);
    else return std::string(m);
  }

  template <typename M>
  static M from_value(const OptionValue& v) {
    if constexpr (std::is_same_v<M, bool>) return std::get<bool>(v);
    else if constexpr (std::is_integral_v<M>) return static_cast<M>(std::get<int64_t>(v));
    else if constexpr (std::is_floating_point_v<M>) {
      if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<M>(*i);
      return static_cast<M>(std::get<double>(v));
    } else return std::get<std::string>(v);
  }

  static YAML::Node find(const YAML::Node& node, const std::string& key) {
    YAML::Node at = node;
    for (const auto& part : split_dotted(key)) {
      if (!at.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
      const YAML::Node& const_at = at;
      YAML::Node next = const_at[part];
      if (!next.IsDefined()) return next;
      at.reset(next);
    }
    return at;
  }

  static void check_range(const Field& f, const OptionValue& v, std::vector<RuleProblem>& problems) {
    const Schema& s = f.schema;
    if (!s.has_min() && !s.has_max()) return;
    double x = 0;
    if (const auto* i = std::get_if<int64_t>(&v)) x = double(*i);
    else if (const auto* d = std::get_if<double>(&v)) x = *d;
    else return;
    const bool low = s.has_min() && !(s.min_exclusive() ? x > s.min_value() : x >= s.min_value());
    const bool high = s.has_max() && !(s.max_exclusive() ? x < s.max_value() : x <= s.max_value());
    if (low || high)
      problems.push_back({split_dotted(f.key), "value " + option_value_text(v) + " for " + f.key +
                                                   " is out of range " + s.range_text(), ""});
  }

  // Defaults are written as plain scalars, as a hand-written default_value("fused") would be.
  static YAML::Node default_node(const OptionValue& v) {
    if (const auto* text = std::get_if<std::string>(&v)) return YAML::Node(*text);
    return option_value_node(v);
  }

  // The object schema, nesting dotted keys; `defaults` null: partial (every key optional).
  Schema build(const T* defaults) const {
    Schema root = Schema::object({});
    for (const auto& f : fields_) {
      Schema leaf = f.schema;
      if (!defaults) leaf.optional();
      else if (leaf.presence() == Schema::Presence::implicit) leaf.default_value(default_node(f.get(*defaults)));
      add_nested(root, split_dotted(f.key), 0, std::move(leaf));
    }
    return root;
  }

  static void add_nested(Schema& object, const std::vector<std::string>& path, size_t i, Schema leaf) {
    if (i + 1 == path.size()) {
      object.add(path[i], std::move(leaf));
      return;
    }
    const Schema* existing = object.field(path[i]);
    Schema child = existing ? *existing : Schema::object({});
    add_nested(child, path, i + 1, std::move(leaf));
    object.add(path[i], std::move(child));
  }

  std::vector<Field> fields_;
  std::vector<std::pair<std::string, Rule>> rules_;
};

}  // namespace abq::config

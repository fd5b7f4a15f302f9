#include "framework/config/variables.h"

#include <map>

#include "framework/config/diagnostics.h"

namespace abq::config {
namespace {

using Variables = std::map<std::string, std::string>;

Variables read_variables(const Document& document, Diagnostics& diagnostics) {
  Variables vars;
  const YAML::Node node = document.root()["vars"];
  if (!node) return vars;
  if (!node.IsMap()) {
    diagnostics.add({"vars"}, false, "vars must be a map of names to values", "vars: {llama_7b: /models/llama-7b}");
    return vars;
  }
  for (const auto& entry : node) {
    const auto name = entry.first.as<std::string>();
    if (!entry.second.IsScalar())
      diagnostics.add({"vars", name}, false, "a variable must be a single value (string or number)");
    else
      vars[name] = entry.second.Scalar();
  }
  return vars;
}

std::vector<std::string> names_of(const Variables& vars) {
  std::vector<std::string> names;
  for (const auto& [name, value] : vars) names.push_back(name);
  return names;
}

// The text with every ${name} replaced; unknown names are reported at `path`.
std::string expand(const std::string& text, const Variables& vars, const KeyPath& path, Diagnostics& diagnostics) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    const size_t end = text.find('}', i + 2);
    if (end == std::string::npos) {
      diagnostics.add(path, false, "unterminated ${ in '" + text + "'", "write ${name}, or $${ for a literal ${");
      return text;
    }
    const std::string name = text.substr(i + 2, end - i - 2);
    const auto found = vars.find(name);
    if (found == vars.end()) {
      diagnostics.add(path, false, "unknown variable '${" + name + "}'",
                      vars.empty() ? "define it under the top-level vars: map"
                                   : suggestion_hint(name, names_of(vars), "defined in vars"));
      out += text.substr(i, end + 1 - i);
    } else {
      out += found->second;
    }
    i = end + 1;
  }
  return out;
}

void walk(YAML::Node node, const KeyPath& path, const Variables& vars, Diagnostics& diagnostics) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text.find("${") != std::string::npos) node = expand(text, vars, path, diagnostics);
  } else if (node.IsMap()) {
    for (auto entry : node) {
      const auto key = entry.first.as<std::string>();
      if (path.empty() && key == "vars") continue;
      KeyPath child = path;
      child.push_back(key);
      walk(entry.second, child, vars, diagnostics);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      KeyPath child = path;
      child.push_back(index_segment(i));
      walk(node[i], child, vars, diagnostics);
    }
  }
}

}  // namespace

void substitute_variables(Document& document) {
  Diagnostics diagnostics(document);
  const Variables vars = read_variables(document, diagnostics);
  walk(document.root(), {}, vars, diagnostics);
  diagnostics.throw_if_any();
}

}  // namespace abq::config

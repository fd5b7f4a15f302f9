#include "framework/config/canonical.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>
#include <vector>

#include "framework/config/scalar.h"
#include "framework/core/sha256.h"

namespace abq::config {
namespace {

std::string double_quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Sorted by key. Nodes are never assigned here: yaml-cpp's Node::operator= writes through into
// the tree, so sorting a vector of nodes in place would corrupt it; we sort positions instead.
std::vector<std::pair<std::string, YAML::Node>> sorted_entries(const YAML::Node& map) {
  std::vector<std::pair<std::string, YAML::Node>> entries;
  for (auto it = map.begin(); it != map.end(); ++it) entries.emplace_back(it->first.Scalar(), it->second);
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return entries[a].first < entries[b].first; });
  std::vector<std::pair<std::string, YAML::Node>> sorted;
  sorted.reserve(entries.size());
  for (size_t i : order) sorted.push_back(entries[i]);
  return sorted;
}

void canonical(const YAML::Node& node, std::string& out) {
  if (node.IsMap()) {
    out += "{";
    bool first = true;
    for (const auto& [key, value] : sorted_entries(node)) {
      if (!first) out += ", ";
      first = false;
      out += double_quoted(key) + ": ";
      canonical(value, out);
    }
    out += "}";
  } else if (node.IsSequence()) {
    out += "[";
    for (size_t i = 0; i < node.size(); ++i) {
      if (i) out += ", ";
      canonical(node[i], out);
    }
    out += "]";
  } else {
    const Scalar s = read_scalar(node);
    out += s.kind == ScalarKind::string ? double_quoted(s.text) : s.text;
  }
}

// A string may be written plain when reading it back gives the same string.
bool plain_safe(const std::string& s) {
  static const std::set<std::string> yaml11_booleans = {"y", "Y", "yes", "Yes", "YES", "n", "N",
                                                        "no", "No", "NO", "on", "On", "ON", "off",
                                                        "Off", "OFF"};
  if (s.empty() || read_plain(s).kind != ScalarKind::string || yaml11_booleans.count(s)) return false;
  if (std::string("-?:,[]{}#&*!|>'\"%@` \t").find(s.front()) != std::string::npos) return false;
  if (s.back() == ' ' || s.back() == ':' || s.back() == '\t') return false;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string scalar_text(const YAML::Node& node) {
  if (node.IsMap()) return "{}";
  if (node.IsSequence()) return "[]";
  const Scalar s = read_scalar(node);
  if (s.kind != ScalarKind::string) return s.text;
  return plain_safe(s.text) ? s.text : double_quoted(s.text);
}

bool nested(const YAML::Node& node) { return (node.IsMap() || node.IsSequence()) && node.size() > 0; }

void emit_block(const YAML::Node& node, size_t indent, std::string& out);

void emit_item(const YAML::Node& node, size_t indent, std::string& out) {
  // `- ` followed by the nested block, whose first line joins the dash.
  std::string block;
  emit_block(node, indent + 2, block);
  out += std::string(indent, ' ') + "- " + block.substr(indent + 2);
}

void emit_block(const YAML::Node& node, size_t indent, std::string& out) {
  const std::string pad(indent, ' ');
  if (node.IsMap()) {
    for (const auto& [key, value] : sorted_entries(node)) {
      out += pad + (plain_safe(key) ? key : double_quoted(key)) + ":";
      if (nested(value)) {
        out += "\n";
        emit_block(value, indent + 2, out);
      } else {
        out += " " + scalar_text(value) + "\n";
      }
    }
  } else {
    for (size_t i = 0; i < node.size(); ++i) {
      if (nested(node[i])) {
        emit_item(node[i], indent, out);
      } else {
        out += pad + "- " + scalar_text(node[i]) + "\n";
      }
    }
  }
}

}  // namespace

std::string canonical_yaml(const YAML::Node& node) {
  std::string out;
  canonical(node, out);
  return out;
}

std::string config_hash(const YAML::Node& node) { return sha256_hex(canonical_yaml(node)); }

std::string emit_yaml(const YAML::Node& node) {
  if (!nested(node)) return scalar_text(node) + "\n";
  std::string out;
  emit_block(node, 0, out);
  return out;
}

}  // namespace abq::config

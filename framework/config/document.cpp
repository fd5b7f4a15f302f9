#include "framework/config/document.h"

#include <cstdint>

#include "framework/core/error.h"

namespace abq::config {
namespace {

constexpr char kSeparator = '\x1f';  // cannot appear in a YAML key a user types

std::string encode(const KeyPath& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (i) out += kSeparator;
    out += path[i];
  }
  return out;
}

bool is_index(const std::string& segment) { return !segment.empty() && segment[0] == '['; }

}  // namespace

bool parse_index_digits(const std::string& digits, size_t& index) {
  if (digits.empty()) return false;
  size_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    const size_t digit = static_cast<size_t>(c - '0');
    if (value > (SIZE_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  index = value;
  return true;
}

std::string SourcePosition::describe() const {
  if (!origin.empty()) return origin;
  if (line <= 0) return file;
  return cat(file, ":", line, ":", column);
}

std::string format_path(const KeyPath& path) {
  if (path.empty()) return "top level";
  std::string out;
  for (const auto& segment : path) {
    if (!out.empty() && !is_index(segment)) out += '.';
    out += segment;
  }
  return out;
}

KeyPath split_dotted(const std::string& dotted) {
  KeyPath out;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    out.push_back(dotted.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

std::string index_segment(size_t i) { return cat("[", i, "]"); }

Document::Document() : root_(YAML::NodeType::Map), sources_(std::make_shared<Sources>()) {}

Document& Document::operator=(const Document& other) {
  if (this != &other) {
    root_.reset(other.root_);
    positions_ = other.positions_;
    sources_ = other.sources_;
    main_file_ = other.main_file_;
  }
  return *this;
}

Document Document::clone() const {
  Document out = *this;
  out.root_.reset(YAML::Clone(root_));
  return out;
}

YAML::Node Document::find(const KeyPath& path) const {
  YAML::Node node;
  node.reset(root_);
  for (const auto& segment : path) {
    if (is_index(segment)) {
      if (!node.IsSequence()) return YAML::Node(YAML::NodeType::Undefined);
      const std::string digits = segment.substr(1, segment.size() - 2);  // "[12]" -> "12"
      size_t i = 0;
      if (!parse_index_digits(digits, i) || i >= node.size()) return YAML::Node(YAML::NodeType::Undefined);
      node.reset(node[i]);  // reset rebinds; operator= would overwrite the tree
    } else {
      if (!node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
      YAML::Node child;
      bool found = false;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->first.Scalar() == segment) {
          child = it->second;
          found = true;
          break;
        }
      }
      if (!found) return YAML::Node(YAML::NodeType::Undefined);
      node.reset(child);
    }
  }
  return node;
}

const SourcePosition* Document::value_position(const KeyPath& path) const {
  auto it = positions_.find(encode(path));
  if (it == positions_.end() || it->second.value.file.empty()) return nullptr;
  return &it->second.value;
}

const SourcePosition* Document::key_position(const KeyPath& path) const {
  auto it = positions_.find(encode(path));
  if (it == positions_.end() || it->second.key.file.empty()) return nullptr;
  return &it->second.key;
}

SourcePosition Document::locate(const KeyPath& path, bool prefer_key) const {
  KeyPath p = path;
  while (true) {
    const SourcePosition* key = key_position(p);
    const SourcePosition* value = value_position(p);
    if (prefer_key && key) return *key;
    if (value) return *value;
    if (key) return *key;
    if (p.empty()) break;
    p.pop_back();
  }
  SourcePosition fallback;
  fallback.file = main_file_;
  fallback.line = main_file_.empty() ? 0 : 1;
  fallback.column = main_file_.empty() ? 0 : 1;
  return fallback;
}

void Document::set_value_position(const KeyPath& path, const SourcePosition& where) {
  positions_[encode(path)].value = where;
}

void Document::set_key_position(const KeyPath& path, const SourcePosition& where) {
  positions_[encode(path)].key = where;
}

void Document::erase_positions(const KeyPath& path) {
  if (path.empty()) {
    positions_.clear();
    return;
  }
  const std::string prefix = encode(path);
  positions_.erase(prefix);
  const std::string below = prefix + kSeparator;
  auto it = positions_.lower_bound(below);
  while (it != positions_.end() && it->first.compare(0, below.size(), below) == 0) {
    it = positions_.erase(it);
  }
}

void Document::copy_positions(const Document& from, const KeyPath& from_path, const KeyPath& to_path) {
  const std::string from_prefix = encode(from_path);
  const std::string to_prefix = encode(to_path);
  auto rebase = [&](const std::string& key) {
    std::string rest = key.substr(from_prefix.size());
    if (from_prefix.empty() && !rest.empty()) rest = kSeparator + rest;  // now "" or "\x1f..."
    if (to_prefix.empty() && !rest.empty()) rest.erase(0, 1);
    return to_prefix + rest;
  };
  if (from_prefix.empty()) {
    for (const auto& [key, located] : from.positions_) positions_[rebase(key)] = located;
    merge_sources(from);
    return;
  }
  auto self = from.positions_.find(from_prefix);
  if (self != from.positions_.end()) positions_[to_prefix] = self->second;
  const std::string below = from_prefix + kSeparator;
  for (auto it = from.positions_.lower_bound(below);
       it != from.positions_.end() && it->first.compare(0, below.size(), below) == 0; ++it) {
    positions_[rebase(it->first)] = it->second;
  }
  merge_sources(from);
}

void Document::set_positions_uniform(const KeyPath& path, const YAML::Node& node,
                                     const SourcePosition& where) {
  positions_[encode(path)].value = where;
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      KeyPath child = path;
      child.push_back(it->first.Scalar());
      positions_[encode(child)].key = where;
      set_positions_uniform(child, it->second, where);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      KeyPath child = path;
      child.push_back(index_segment(i));
      set_positions_uniform(child, node[i], where);
    }
  }
}

void Document::add_source(const std::string& file, const std::string& text) {
  if (main_file_.empty()) main_file_ = file;
  if (sources_.use_count() > 1) sources_ = std::make_shared<Sources>(*sources_);
  std::vector<std::string>& lines = (*sources_)[file];
  lines.clear();
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    start = end + 1;
  }
}

const std::string* Document::source_line(const std::string& file, int line) const {
  auto it = sources_->find(file);
  if (it == sources_->end() || line < 1 || static_cast<size_t>(line) > it->second.size()) return nullptr;
  return &it->second[static_cast<size_t>(line) - 1];
}

void Document::merge_sources(const Document& other) {
  if (other.sources_ == sources_) return;
  if (main_file_.empty()) main_file_ = other.main_file_;
  bool missing = false;
  for (const auto& entry : *other.sources_) {
    if (!sources_->count(entry.first)) missing = true;
  }
  if (!missing) return;
  if (sources_.use_count() > 1) sources_ = std::make_shared<Sources>(*sources_);
  for (const auto& entry : *other.sources_) sources_->emplace(entry.first, entry.second);
}

}  // namespace abq::config

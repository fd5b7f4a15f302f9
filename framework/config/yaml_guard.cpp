#include "framework/config/yaml_guard.h"

#include <cstdio>
#include <vector>

#include "framework/config/diagnostics.h"
#include "framework/config/scalar.h"
#include "framework/core/error.h"

namespace abq::config {
namespace {

std::string hex_byte(unsigned char c) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02x", c);
  return buffer;
}

class TreeGuard {
 public:
  TreeGuard(const TreeSource& source, const TreeLimits& limits, Diagnostics& diagnostics)
      : source_(source), limits_(limits), diagnostics_(diagnostics) {}

  // Depth is bounded by max_depth, so this recursion cannot exhaust the stack.
  void visit(const YAML::Node& node, KeyPath& path) {
    if (stopped_) return;
    for (size_t k = 0; k < ancestors_.size(); ++k) {
      if (!node.is(ancestors_[k])) continue;
      const KeyPath outer(path.begin(), path.begin() + static_cast<long>(source_.base.size() + k));
      stop(node, cat("alias cycle: ", format_path(path), " refers back to ", format_path(outer), ", which contains it"),
           "an alias may only name a value defined before it and outside it");
      return;
    }
    if (ancestors_.size() > limits_.max_depth) {
      stop(node, cat("nesting deeper than ", limits_.max_depth, " levels at ", format_path(path)), "");
      return;
    }
    if (++values_ > limits_.max_values) {
      stop(node, cat("the config expands to more than ", limits_.max_values,
                     " values once aliases are expanded (at ", format_path(path), ")"),
           "aliases of lists of aliases multiply; write the values out or use fewer levels");
      return;
    }
    if (node.IsScalar()) {
      check_text(node, node.Scalar(), cat("the value of ", format_path(path)));
      return;
    }
    ancestors_.push_back(node);
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end() && !stopped_; ++it) {
        if (!it->first.IsScalar()) {
          diagnostics_.add(where(it->first), cat("a key in ", format_path(path), " must be a name, got a ",
                                                 kind_name(it->first)),
                           "keys are plain names; a list or map cannot be a key");
          continue;
        }
        if (!check_text(it->first, it->first.Scalar(), cat("a key in ", format_path(path)))) continue;
        path.push_back(it->first.Scalar());
        visit(it->second, path);
        path.pop_back();
      }
    } else if (node.IsSequence()) {
      for (size_t i = 0; i < node.size() && !stopped_; ++i) {
        path.push_back(index_segment(i));
        visit(node[i], path);
        path.pop_back();
      }
    }
    ancestors_.pop_back();
  }

 private:
  SourcePosition where(const YAML::Node& node) const {
    SourcePosition at;
    at.file = source_.file;
    at.origin = source_.origin;
    const YAML::Mark mark = node.Mark();
    if (!mark.is_null() && mark.line >= 0) {
      at.line = mark.line + 1;
      at.column = mark.column + 1;
    }
    return at;
  }

  void stop(const YAML::Node& node, const std::string& message, const std::string& hint) {
    diagnostics_.add(where(node), message, hint);
    stopped_ = true;
  }

  // The store keeps strings as UTF-8, and its readers decode them strictly.
  bool check_text(const YAML::Node& node, const std::string& text, const std::string& what) {
    const size_t bad = first_invalid_utf8(text);
    if (bad == std::string::npos) return true;
    diagnostics_.add(where(node),
                     cat("invalid UTF-8 in ", what, " (byte ", hex_byte(static_cast<unsigned char>(text[bad])),
                         " at byte ", bad, " of the text)"),
                     "config files must be UTF-8; write non-ASCII text as \"\\u00e9\" escapes");
    return false;
  }

  const TreeSource& source_;
  const TreeLimits& limits_;
  Diagnostics& diagnostics_;
  std::vector<YAML::Node> ancestors_;
  size_t values_ = 0;
  bool stopped_ = false;
};

}  // namespace

size_t first_invalid_utf8(const std::string& text) {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code = 0, least = 0;
    if ((c & 0xE0) == 0xC0) {
      length = 2, code = c & 0x1F, least = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3, code = c & 0x0F, least = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4, code = c & 0x07, least = 0x10000;
    } else {
      return i;  // a continuation byte without a lead, or 0xF8..0xFF
    }
    if (i + length > n) return i;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      code = code << 6 | (next & 0x3F);
    }
    if (code < least || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
    i += length;
  }
  return std::string::npos;
}

void check_parsed_tree(const YAML::Node& root, const TreeSource& source, const TreeLimits& limits) {
  const Document none;
  Diagnostics diagnostics(source.sources ? *source.sources : none);
  TreeGuard guard(source, limits, diagnostics);
  KeyPath path = source.base;
  guard.visit(root, path);
  diagnostics.throw_if_any();
}

}  // namespace abq::config

// Checks a freshly parsed YAML tree before anything else walks, copies or stores it.
//
// yaml-cpp resolves an alias to the very node its anchor names, so `s: &s [*s]` parses into a
// tree that contains itself (every recursive walk overflows the stack), and nine levels of ten
// aliases each (`b: [*a, *a, ...]`) expand to 10^9 values once merging copies them. Keys may be
// whole maps or lists (`{[a, b]: 1}`), which no config key can be, and byte strings that are not
// UTF-8 would go into the store's UTF-8 strings and break its readers. All of these are rejected
// here, each at the file:line:column of the node:
//
//   x.yaml:1:4: alias cycle: s[0] refers back to s, which contains it
//   x.yaml:9:8: the config expands to more than 100000 values once aliases are expanded (at a.b[0])
//   x.yaml:1:12: nesting deeper than 64 levels at a[0][0]...
//   x.yaml:2:9: a key in vars must be a name, got a list
//   x.yaml:3:7: invalid UTF-8 in the value of model.path (byte 0xff at byte 4 of the text)
#pragma once

#include <cstddef>
#include <string>

#include <yaml-cpp/yaml.h>

#include "framework/config/document.h"

namespace abq::config {

/// Bounds on a parsed tree. A real experiment has a few hundred values, nested about six deep.
struct TreeLimits {
  size_t max_depth = 64;
  size_t max_values = 100000;  // every node counted once per path reaching it (aliases expanded)
};

/// Where the tree came from: marks are turned into positions in `file` (sources quoted from
/// `sources`), or, when `origin` is set (a --set flag), every problem is placed at the flag.
struct TreeSource {
  std::string file;
  std::string origin;
  const Document* sources = nullptr;
  KeyPath base;  // where the tree goes in the config (a --set value's key), for messages
};

/// Throws abq::ConfigError listing the problems above (a cycle, excess depth or size stops the
/// walk at the first one; bad keys and invalid UTF-8 are all reported).
void check_parsed_tree(const YAML::Node& root, const TreeSource& source, const TreeLimits& limits = {});

/// Byte offset of the first byte of `text` that is not well-formed UTF-8 (overlong forms,
/// surrogates and code points above U+10FFFF are ill-formed), or std::string::npos.
size_t first_invalid_utf8(const std::string& text);

}  // namespace abq::config

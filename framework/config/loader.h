// Loading config files: YAML parsing, `include:` fragments and deep merging, with the source
// position of every node recorded in the Document.
//
//   include: ../configs/methods/abq_llm.yaml        # or a list; paths relative to this file
//
// Included fragments merge in order (later ones override earlier ones), then this file's own keys
// override them all. Maps merge key by key; any other value replaces the old one whole.
// Includes nest; a cycle or a missing file is a ConfigError naming the including file and line.
#pragma once

#include <string>

#include "framework/config/document.h"

namespace abq::config {

/// Reads `path` and everything it includes. Throws abq::ConfigError on unreadable files,
/// YAML syntax errors, duplicate keys, include cycles and a non-map top level.
Document load_config(const std::string& path);

/// Same for text already in memory; `name` stands for its file name in positions, and includes
/// resolve relative to its folder.
Document parse_config(const std::string& text, const std::string& name);

/// Deep-merges `over` into `base`: maps merge key by key, anything else in `over` replaces the
/// value in `base`; positions and sources follow the winning values.
void merge_documents(Document& base, const Document& over);

/// Records the position of `node` (at `path`) and its descendants from yaml-cpp marks.
void record_marks(Document& document, const KeyPath& path, const YAML::Node& node,
                  const std::string& file);

}  // namespace abq::config

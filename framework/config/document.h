// Document: a YAML tree plus the source position of every node, kept through include merging,
// --set overrides and variant expansion, so errors point into the file (or flag) a value came from.
// yaml-cpp marks give line/column but not the file, and are lost by Clone; the side table here,
// keyed by key path, is the one source of truth for positions.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace abq::config {

/// Where a node came from. Lines and columns are 1-based; 0 means unknown.
struct SourcePosition {
  std::string file;    // the path as the user spelled it (includes: joined and normalized),
                       // or "<command line>"
  int line = 0;
  int column = 0;
  std::string origin;  // for command-line nodes: the flag, "--set quant.weights.bits=5"

  /// "experiments/x.yaml:12:5", "--set quant.weights.bits=5", or the file alone.
  std::string describe() const;
};

inline constexpr const char* kCommandLine = "<command line>";

/// A path of keys from the root; a list element is the segment "[i]".
using KeyPath = std::vector<std::string>;

/// "quant.weights", "quant.allocation.overrides[0].sites"; the root is "top level".
std::string format_path(const KeyPath& path);

/// Splits "a.b.c" at dots (no validation; "a..b" yields an empty segment).
KeyPath split_dotted(const std::string& dotted);

/// The segment naming list element i: "[i]".
std::string index_segment(size_t i);

/// Reads decimal digits as a list index; false when `digits` is empty, holds a non-digit, or
/// names a number too large for size_t (such an index is past the end of every list).
bool parse_index_digits(const std::string& digits, size_t& index);

class Document {
 public:
  /// An empty map with no sources.
  Document();
  Document(const Document&) = default;
  /// Rebinds (yaml-cpp's Node::operator= would write through into the shared tree).
  Document& operator=(const Document& other);

  /// Reference semantics as in yaml-cpp: edits through root() change this document.
  YAML::Node& root() { return root_; }
  const YAML::Node& root() const { return root_; }

  /// A deep copy (tree and positions); copying a Document shares its tree.
  Document clone() const;

  /// The node at `path`, or an undefined node when absent.
  YAML::Node find(const KeyPath& path) const;

  /// Position of the value at `path`; nullptr when unknown.
  const SourcePosition* value_position(const KeyPath& path) const;
  /// Position of the key naming `path` (map entries only); nullptr when unknown.
  const SourcePosition* key_position(const KeyPath& path) const;
  /// The best known position for `path`: its key (prefer_key) or value, else the nearest
  /// ancestor's, else line 1 of the first source.
  SourcePosition locate(const KeyPath& path, bool prefer_key = false) const;

  void set_value_position(const KeyPath& path, const SourcePosition& where);
  void set_key_position(const KeyPath& path, const SourcePosition& where);
  /// Forgets the positions of `path` and everything under it.
  void erase_positions(const KeyPath& path);
  /// Copies the positions of `from`'s subtree at `from_path` to this document's `to_path`.
  void copy_positions(const Document& from, const KeyPath& from_path, const KeyPath& to_path);
  /// Gives `node` (placed at `path`) and all its descendants the same position.
  void set_positions_uniform(const KeyPath& path, const YAML::Node& node, const SourcePosition& where);

  /// Registers a source text so errors can quote its lines; `file` matches SourcePosition::file.
  void add_source(const std::string& file, const std::string& text);
  /// The text of a 1-based line, or nullptr when the file or line is unknown.
  const std::string* source_line(const std::string& file, int line) const;
  /// Makes `other`'s sources available here too.
  void merge_sources(const Document& other);
  /// The first registered source file, "" when none.
  const std::string& main_file() const { return main_file_; }

 private:
  struct Located {
    SourcePosition value;
    SourcePosition key;
  };
  using Sources = std::map<std::string, std::vector<std::string>>;

  YAML::Node root_;
  std::map<std::string, Located> positions_;  // key: path segments joined by '\x1f'
  std::shared_ptr<Sources> sources_;          // shared: immutable once registered
  std::string main_file_;
};

}  // namespace abq::config

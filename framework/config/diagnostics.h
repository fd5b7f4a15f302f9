// Config diagnostics: every problem found in a pass is collected, then thrown as one
// abq::ConfigError, each formatted as ninja does:
//
//   experiments/x.yaml:12:5: unknown key 'blocksize' in quant.weights
//       blocksize: 128
//       ^ did you mean 'block_size'? allowed: act_order, block_size, damp
#pragma once

#include <string>
#include <vector>

#include "framework/config/document.h"

namespace abq::config {

struct Issue {
  SourcePosition where;
  std::string message;  // names the dotted key path
  std::string hint;     // after the caret; may be empty
};

/// "file:line:col: message", then the source line and "<spaces>^ hint" when the line is known;
/// a command-line position gives "--set a.b=5: message" and the hint indented on the next line.
std::string format_issue(const Issue& issue, const Document* sources);

class Diagnostics {
 public:
  /// `document` supplies positions and source lines; it must outlive this object.
  explicit Diagnostics(const Document& document) : document_(&document) {}

  /// An issue at the value of `path` (or its key when at_key), located through the document.
  void add(const KeyPath& path, bool at_key, const std::string& message, const std::string& hint = "");
  void add(const SourcePosition& where, const std::string& message, const std::string& hint = "");

  bool empty() const { return issues_.empty(); }
  const std::vector<Issue>& issues() const { return issues_; }

  /// All issues, formatted and joined by newlines, in the order they were found.
  std::string format() const;
  /// Throws abq::ConfigError carrying format() when any issue was added.
  void throw_if_any() const;

 private:
  const Document* document_;
  std::vector<Issue> issues_;
};

/// "did you mean 'x'? allowed: a, b, c" (or "allowed: a, b, c" when nothing is close).
std::string suggestion_hint(const std::string& word, const std::vector<std::string>& allowed,
                            const std::string& allowed_label = "allowed");

}  // namespace abq::config

#include "framework/config/diagnostics.h"

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"

namespace abq::config {

std::string format_issue(const Issue& issue, const Document* sources) {
  const SourcePosition& where = issue.where;
  std::string out = where.describe();
  if (!out.empty()) out += ": ";
  out += issue.message;
  const std::string* line =
      (sources && where.origin.empty()) ? sources->source_line(where.file, where.line) : nullptr;
  if (line) {
    out += "\n" + *line + "\n";
    // The caret sits under the column; tabs before it are copied so it lines up.
    const size_t column = static_cast<size_t>(where.column > 0 ? where.column : 1);
    for (size_t i = 0; i + 1 < column; ++i) out += (i < line->size() && (*line)[i] == '\t') ? '\t' : ' ';
    out += "^";
    if (!issue.hint.empty()) out += " " + issue.hint;
  } else if (!issue.hint.empty()) {
    out += "\n    " + issue.hint;
  }
  return out;
}

void Diagnostics::add(const KeyPath& path, bool at_key, const std::string& message,
                      const std::string& hint) {
  issues_.push_back(Issue{document_->locate(path, at_key), message, hint});
}

void Diagnostics::add(const SourcePosition& where, const std::string& message, const std::string& hint) {
  issues_.push_back(Issue{where, message, hint});
}

std::string Diagnostics::format() const {
  std::string out;
  for (size_t i = 0; i < issues_.size(); ++i) {
    if (i) out += "\n";
    out += format_issue(issues_[i], document_);
  }
  return out;
}

void Diagnostics::throw_if_any() const {
  if (!issues_.empty()) throw ConfigError(format());
}

std::string suggestion_hint(const std::string& word, const std::vector<std::string>& allowed,
                            const std::string& allowed_label) {
  std::string hint;
  const std::string guess = closest_match(word, allowed);
  if (!guess.empty()) hint = "did you mean '" + guess + "'? ";
  return hint + allowed_label + ": " + (allowed.empty() ? std::string("(none)") : join(allowed));
}

}  // namespace abq::config

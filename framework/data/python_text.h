// Python's str rules that the reference loaders rely on when they turn a corpus file into text:
// file iteration (lines keep their "\n"), str.strip() and sep.join(). The row readers
// (wikitext_rows.h, ptb_rows.h) and c4_json.h are built from them, so every corpus is cut the way
// the Python references cut it.
#pragma once

#include <string>
#include <vector>

namespace abq::data {

/// Python's str.strip() over ASCII whitespace; the datasets' lines are ASCII-whitespace delimited.
std::string python_strip(const std::string& s);

/// The lines of `text` as Python's file iteration yields them: each keeps its trailing "\n"; a last
/// line without "\n" is kept.
std::vector<std::string> python_lines(const std::string& text);

/// Python's sep.join(rows).
std::string python_join(const std::vector<std::string>& rows, const std::string& sep);

}  // namespace abq::data

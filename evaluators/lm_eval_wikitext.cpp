#include "evaluators/lm_eval_wikitext.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "framework/core/error.h"
#include "framework/data/token_windows.h"

namespace abq::evaluators {
namespace {

// Byte length of the Unicode whitespace character (Python's str.isspace / re `\s`) that starts
// at s[i], 0 when there is none: \t\n\v\f\r, U+001C..U+001F, space, U+0085, U+00A0, U+1680,
// U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
size_t space_at(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const unsigned c = b(0);
  if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) return 1;
  if (c == 0xC2 && (b(1) == 0x85 || b(1) == 0xA0)) return 2;
  if (c == 0xE1 && b(1) == 0x9A && b(2) == 0x80) return 3;
  if (c == 0xE2 && b(1) == 0x80 && ((b(2) >= 0x80 && b(2) <= 0x8A) || b(2) == 0xA8 || b(2) == 0xA9 || b(2) == 0xAF))
    return 3;
  if (c == 0xE2 && b(1) == 0x81 && b(2) == 0x9F) return 3;
  if (c == 0xE3 && b(1) == 0x80 && b(2) == 0x80) return 3;
  return 0;
}

// Byte length of the whitespace character that ends right before s[end], 0 when there is none.
size_t space_before(const std::string& s, size_t end) {
  for (size_t n = 1; n <= 3 && n <= end; ++n)
    if (space_at(s, end - n) == n) return n;
  return 0;
}

std::string python_strip(const std::string& s) {
  size_t b = 0, e = s.size();
  for (size_t n; b < e && (n = space_at(s, b)) > 0;) b += n;
  for (size_t n; e > b && (n = space_before(s, e)) > 0;) e -= n;
  return s.substr(b, e - b);
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// Python's str.replace: non-overlapping occurrences, left to right.
std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  size_t i = 0;
  for (size_t j; (j = s.find(from, i)) != std::string::npos; i = j + from.size()) out.append(s, i, j - i).append(to);
  return out.append(s, i, std::string::npos);
}

// re.sub(r"O\s*([^C]*?)\s*C", r"O\1C", s) for one bracket pair (open == close for quotes): each
// opener pairs with the next closer, whitespace just inside both is dropped; an opener without a
// closer after it is left as it is.
std::string strip_inside(const std::string& s, char open, char close) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != open) {
      out += s[i++];
      continue;
    }
    const size_t j = s.find(close, i + 1);
    if (j == std::string::npos) break;
    out.append(1, open).append(python_strip(s.substr(i + 1, j - i - 1))).append(1, close);
    i = j + 1;
  }
  return out.append(s, std::min(i, s.size()), std::string::npos);
}

// re.sub(r"/' [0-9]/", r"/'[0-9]/", s): the replacement is literal text, as lm-eval has it.
std::string slash_quote_digit(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s.compare(i, 3, "/' ") == 0 && i + 4 < s.size() && s[i + 3] >= '0' && s[i + 3] <= '9' && s[i + 4] == '/') {
      out += "/'[0-9]/";
      i += 5;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// Byte offset of the first invalid UTF-8 sequence, npos when valid (Python refuses to decode it).
size_t invalid_utf8_at(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size() || (n == 2 && c < 0xC2)) return i;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    if (n == 3) {
      const unsigned c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return i;  // overlong, surrogate
    }
    if (n == 4) {
      const unsigned c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xF0 && c1 < 0x90) || c > 0xF4 || (c == 0xF4 && c1 >= 0x90)) return i;
    }
    i += n;
  }
  return std::string::npos;
}

bool is_heading(const std::string& line) {
  const std::string rline = python_strip(replace_all(replace_all(line, "= = =", "==="), "= =", "=="));
  return starts_with(rline, "= ") && ends_with(rline, " =");
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out.append(i ? "\n" : "").append(lines[i]);
  return out;
}

}  // namespace

std::vector<std::string> wikitext_pages(const std::string& raw_text) {
  const std::string text = replace_all(replace_all(raw_text, "\r\n", "\n"), "\r", "\n");
  std::vector<std::string> pages, lines;
  size_t start = 0;
  while (true) {  // str.split("\n"): n newlines give n + 1 pieces
    const size_t nl = text.find('\n', start);
    const std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (is_heading(line)) {
      std::string page = join_lines(lines);
      if (!python_strip(page).empty()) pages.push_back(std::move(page));
      lines.clear();
    }
    lines.push_back(line);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  pages.push_back(join_lines(lines));
  return pages;
}

std::vector<std::string> read_wikitext_pages(const std::string& path) {
  const bool json_lines = ends_with(path, ".jsonl") || ends_with(path, ".json");
  const std::string text = data::read_text_file(path);
  if (size_t bad = invalid_utf8_at(text); bad != std::string::npos)
    throw Error(cat("'", path, "': invalid UTF-8 at byte ", bad, " (the task reads the file as UTF-8)"));
  if (!json_lines) return wikitext_pages(text);
  std::vector<std::string> pages;
  size_t start = 0, line_no = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    const std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (python_strip(line).empty()) continue;
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw Error(cat(path, ":", line_no, ": not a JSON record: ", e.what()));
    }
    if (!record.is_object() || !record.contains("page") || !record["page"].is_string())
      throw Error(cat(path, ":", line_no, ": expected an object with a string field \"page\" (wikitext_document_level)"));
    pages.push_back(record["page"].get<std::string>());
  }
  if (pages.empty()) throw Error(cat("'", path, "' holds no \"page\" records"));
  return pages;
}

std::string wikitext_detokenize(const std::string& page) {
  std::string s = page;
  // contractions
  s = replace_all(s, "s '", "s'");
  s = slash_quote_digit(s);
  // number separators
  s = replace_all(s, " @-@ ", "-");
  s = replace_all(s, " @,@ ", ",");
  s = replace_all(s, " @.@ ", ".");
  // punctuation
  for (const char* p : {" : ", " ; ", " . ", " ! ", " ? ", " , "}) s = replace_all(s, p, std::string(p).substr(1));
  // brackets and quotes, in lm-eval's order
  s = strip_inside(s, '(', ')');
  s = strip_inside(s, '[', ']');
  s = strip_inside(s, '{', '}');
  s = strip_inside(s, '"', '"');
  s = strip_inside(s, '\'', '\'');
  // miscellaneous
  s = replace_all(s, "= = = =", "====");
  s = replace_all(s, "= = =", "===");
  s = replace_all(s, "= =", "==");
  s = replace_all(s, " \xC2\xB0 ", "\xC2\xB0");  // chr(176), the degree sign
  s = replace_all(s, " \n", "\n");
  s = replace_all(s, "\n ", "\n");
  s = replace_all(s, " N ", " 1 ");
  s = replace_all(s, " 's", "'s");
  return s;
}

int64_t python_whitespace_split_count(const std::string& text) {
  int64_t runs = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t n = space_at(text, i);
    if (n == 0) {
      ++i;
      continue;
    }
    ++runs;
    while (i < text.size() && (n = space_at(text, i)) > 0) i += n;
  }
  return runs + 1;
}

}  // namespace abq::evaluators

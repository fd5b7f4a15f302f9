#include "framework/tokenize/utf8.h"

namespace abq::tokenize {

size_t utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

uint32_t utf8_decode(const std::string& text, size_t pos, size_t& length) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  const size_t n = utf8_sequence_length(lead);
  length = 1;
  if (n == 1 || pos + n > text.size()) return lead;
  uint32_t cp = n == 2 ? (lead & 0x1F) : n == 3 ? (lead & 0x0F) : (lead & 0x07);
  for (size_t i = 1; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[pos + i]);
    if ((c & 0xC0) != 0x80) return lead;
    cp = (cp << 6) | (c & 0x3F);
  }
  length = n;
  return cp;
}

std::vector<std::string> utf8_chars(const std::string& text) {
  std::vector<std::string> chars;
  chars.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length = 1;
    utf8_decode(text, pos, length);
    chars.emplace_back(text, pos, length);
    pos += length;
  }
  return chars;
}

std::string utf8_encode(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

}  // namespace abq::tokenize

namespace abq::tokenize {

bool mark_only_starts_pieces(const std::vector<std::string>& tokens, const std::string& mark) {
  for (const auto& token : tokens) {
    for (size_t pos = token.find(mark, 1); pos != std::string::npos; pos = token.find(mark, pos + 1)) {
      if (pos < mark.size() || token.compare(pos - mark.size(), mark.size(), mark) != 0) return false;
    }
  }
  return true;
}

std::vector<std::string> cut_before_mark(const std::string& text, const std::string& mark) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t pos = text.find(mark, 1); pos != std::string::npos; pos = text.find(mark, pos + 1)) {
    if (pos >= mark.size() && text.compare(pos - mark.size(), mark.size(), mark) == 0) continue;
    parts.push_back(text.substr(start, pos - start));
    start = pos;
  }
  parts.push_back(text.substr(start));
  return parts;
}

}  // namespace abq::tokenize

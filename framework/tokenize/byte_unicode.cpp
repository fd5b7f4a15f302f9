#include "framework/tokenize/byte_unicode.h"

#include <array>
#include <unordered_map>

#include "framework/tokenize/utf8.h"

namespace abq::tokenize {
namespace {

struct Table {
  std::array<std::string, 256> to_unicode;
  std::unordered_map<uint32_t, uint8_t> to_byte;

  Table() {
    // Printable Latin-1 bytes map to themselves; the other 68 bytes take 256, 257, ... in order.
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cp = printable ? b : next++;
      to_unicode[b] = utf8_encode(cp);
      to_byte[cp] = static_cast<uint8_t>(b);
    }
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t byte) { return table().to_unicode[byte]; }

std::string bytes_to_unicode_text(const std::string& raw) {
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) out += table().to_unicode[c];
  return out;
}

std::string unicode_text_to_bytes(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length = 1;
    const uint32_t cp = utf8_decode(text, pos, length);
    const auto it = table().to_byte.find(cp);
    if (it != table().to_byte.end() && length > 0) {
      out.push_back(static_cast<char>(it->second));
    } else {
      out.append(text, pos, length);
    }
    pos += length;
  }
  return out;
}

}  // namespace abq::tokenize

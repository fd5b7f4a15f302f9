// GPT-2 byte <-> unicode table: expected code points from openai/gpt-2 encoder.py bytes_to_unicode
// (space 0x20 -> U+0120 "Ġ", newline 0x0A -> U+010A "Ċ", printable ASCII unchanged).
#include <gtest/gtest.h>

#include "framework/tokenize/byte_unicode.h"

namespace abq::tokenize {
namespace {

TEST(ByteUnicode, MatchesGpt2Table) {
  EXPECT_EQ(byte_to_unicode(' '), "\xC4\xA0");   // Ġ
  EXPECT_EQ(byte_to_unicode('\n'), "\xC4\x8A");  // Ċ
  EXPECT_EQ(byte_to_unicode('A'), "A");
  EXPECT_EQ(byte_to_unicode(0xAD), "\xC5\x83");  // soft hyphen -> U+0143, the 68th remapped byte
  EXPECT_EQ(bytes_to_unicode_text(" the"), "\xC4\xA0the");
}

TEST(ByteUnicode, RoundTripsAllBytes) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(unicode_text_to_bytes(bytes_to_unicode_text(all)), all);
}

}  // namespace
}  // namespace abq::tokenize

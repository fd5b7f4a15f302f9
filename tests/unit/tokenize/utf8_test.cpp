// UTF-8 helpers: expected values are hand-encoded from the Unicode standard's UTF-8 table.
#include <gtest/gtest.h>

#include "framework/tokenize/utf8.h"

namespace abq::tokenize {
namespace {

TEST(Utf8, SplitsCharactersAndKeepsInvalidBytes) {
  // "a", "é" (C3 A9), "€" (E2 82 AC), "🦙" (F0 9F A6 99), a lone continuation byte, a truncated lead.
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\xA6\x99\x80\xE2\x82";
  const auto chars = utf8_chars(text);
  ASSERT_EQ(chars.size(), 7u);
  EXPECT_EQ(chars[1], "\xC3\xA9");
  EXPECT_EQ(chars[3], "\xF0\x9F\xA6\x99");
  EXPECT_EQ(chars[4], "\x80");
  EXPECT_EQ(chars[5], "\xE2");
  EXPECT_EQ(chars[6], "\x82");
}

TEST(Utf8, EncodesAndDecodesCodePoints) {
  EXPECT_EQ(utf8_encode(0x2581), "\xE2\x96\x81");
  EXPECT_EQ(utf8_encode(0x120), "\xC4\xA0");
  EXPECT_EQ(utf8_encode(0x1F999), "\xF0\x9F\xA6\x99");
  size_t length = 0;
  EXPECT_EQ(utf8_decode("\xE2\x96\x81", 0, length), 0x2581u);
  EXPECT_EQ(length, 3u);
}

}  // namespace
}  // namespace abq::tokenize

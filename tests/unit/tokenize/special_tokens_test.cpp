// SpecialTokenMatcher: expected fragments worked out by hand (longest literal match at each position).
#include <gtest/gtest.h>

#include "framework/tokenize/special_tokens.h"

namespace abq::tokenize {
namespace {

TEST(SpecialTokenMatcher, SplitsLongestFirst) {
  const SpecialTokenMatcher m({{"<s>", 1}, {"<|im", 7}, {"<|im_start|>", 9}});
  const auto f = m.split("a<s><|im_start|>b<|imc");
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0].text, "a");
  EXPECT_EQ(f[1].id, 1);
  EXPECT_EQ(f[2].id, 9);
  EXPECT_EQ(f[3].text, "b");
  EXPECT_EQ(f[4].id, 7);
  EXPECT_EQ(f[5].text, "c");
}

TEST(SpecialTokenMatcher, PlainTextStaysWhole) {
  const SpecialTokenMatcher m({{"<s>", 1}});
  const auto f = m.split("no <specials> here");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].id, -1);
  EXPECT_TRUE(m.split("").empty());
}

}  // namespace
}  // namespace abq::tokenize

// Expected distances are hand-counted Levenshtein edits.
#include <gtest/gtest.h>

#include "framework/core/spellcheck.h"

TEST(Spellcheck, EditDistance) {
  EXPECT_EQ(abq::edit_distance("", ""), 0u);
  EXPECT_EQ(abq::edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(abq::edit_distance("blocksize", "block_size"), 1u);
  EXPECT_EQ(abq::edit_distance("abc", ""), 3u);
}

TEST(Spellcheck, ClosestMatch) {
  std::vector<std::string> keys = {"act_order", "block_size", "damp"};
  EXPECT_EQ(abq::closest_match("blocksize", keys), "block_size");
  EXPECT_EQ(abq::closest_match("dmap", keys), "damp");
  EXPECT_EQ(abq::closest_match("completely_unrelated", keys), "");
  EXPECT_EQ(abq::join(keys), "act_order, block_size, damp");
}

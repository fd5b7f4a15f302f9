// bpe_merge: expected merges worked out by hand (lowest rank first, leftmost on ties).
#include <gtest/gtest.h>

#include "framework/tokenize/bpe_merge.h"

namespace abq::tokenize {
namespace {

using Symbols = std::vector<std::string>;

TEST(BpeMerge, LowestRankFirst) {
  MergeRanks ranks;
  ranks.add("b", "c", 0);
  ranks.add("a", "b", 1);
  ranks.add("a", "bc", 2);
  // "abc": b+c (rank 0) first, then a+bc (rank 2); a+b never applies.
  EXPECT_EQ(bpe_merge({"a", "b", "c"}, ranks), (Symbols{"abc"}));
  EXPECT_EQ(ranks.rank("a", "b"), 1);
  EXPECT_EQ(ranks.rank("ab", ""), -1);
}

TEST(BpeMerge, LeftmostOnTies) {
  MergeRanks ranks;
  ranks.add("a", "a", 0);
  EXPECT_EQ(bpe_merge({"a", "a", "a"}, ranks), (Symbols{"aa", "a"}));
  ranks.add("aa", "aa", 1);
  EXPECT_EQ(bpe_merge({"a", "a", "a", "a", "a"}, ranks), (Symbols{"aaaa", "a"}));
}

TEST(BpeMerge, NoMergesKeepsSymbols) {
  EXPECT_EQ(bpe_merge({"x", "y"}, MergeRanks()), (Symbols{"x", "y"}));
  EXPECT_TRUE(bpe_merge({}, MergeRanks()).empty());
}

}  // namespace
}  // namespace abq::tokenize

// Window boundaries follow the GPTQ protocol text (evaluation-protocols.md §2.1) and the
// reference calibration loader (offset = randint(0, len - T - 1), CPython draws as above).
#include <gtest/gtest.h>

#include <numeric>

#include "framework/core/error.h"
#include "framework/data/token_windows.h"

TEST(TokenWindows, NonOverlappingDropsTail) {
  std::vector<int64_t> s(10);
  std::iota(s.begin(), s.end(), 0);
  auto w = abq::data::nonoverlapping_windows(s, 4);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0], (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(w[1], (std::vector<int64_t>{4, 5, 6, 7}));
  EXPECT_EQ(abq::data::nonoverlapping_windows(s, 4, 1).size(), 1u);
}

TEST(TokenWindows, RandomWindowsUsePythonOffsets) {
  std::vector<int64_t> s(300000);
  std::iota(s.begin(), s.end(), 0);
  auto w = abq::data::random_windows(s, 2, 2048, 2);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].front(), 29649);
  EXPECT_EQ(w[0].size(), 2048u);
  EXPECT_EQ(w[1].front(), 48016);
}

TEST(TokenWindows, TooShortIsAClearError) {
  std::vector<int64_t> s(100);
  try {
    abq::data::random_windows(s, 1, 128, 0);
    FAIL();
  } catch (const abq::Error& e) {
    EXPECT_EQ(e.message(), "calibration text has 100 tokens; 129 are needed for windows of seqlen 128 "
                           "(use a longer text or a smaller seqlen)");
  }
}

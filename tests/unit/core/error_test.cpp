// Pins the layout of error messages with context (outermost first, message indented last).
#include <gtest/gtest.h>

#include "framework/core/error.h"

TEST(Error, ContextLinesOutermostFirst) {
  abq::Error e("tensor 'x' has wrong shape");
  e.with_context("while reading shard 2");
  e.with_context("loading /models/m");
  EXPECT_STREQ(e.what(), "loading /models/m\n  while reading shard 2\n  tensor 'x' has wrong shape");
  EXPECT_EQ(e.message(), "tensor 'x' has wrong shape");
}

TEST(Error, AssertIsNotAUserError) {
  try {
    ABQ_ASSERT(1 + 1 == 3, "math is ", "broken");
    FAIL();
  } catch (const abq::Error&) {
    FAIL() << "assertions must not look like user errors";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("math is broken"), std::string::npos);
  }
}

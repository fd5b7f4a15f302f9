// Progress falls back to plain lines when the stream is not a terminal (here: a temp file).
#include <gtest/gtest.h>

#include <cstdio>

#include "framework/core/progress.h"

TEST(Progress, PlainLinesWhenNotATerminal) {
  FILE* f = std::tmpfile();
  {
    abq::Progress p("eval", 4, "win", f);
    for (int i = 0; i < 4; ++i) p.advance();
  }
  std::rewind(f);
  char buf[256] = {0};
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  std::string out(buf, n);
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_NE(out.find("eval 4/4"), std::string::npos);
  EXPECT_NE(out.find("win/s"), std::string::npos);
}

TEST(Progress, DurationFormat) {
  EXPECT_EQ(abq::format_duration(4.25), "4.2s");
  EXPECT_EQ(abq::format_duration(185), "3m05s");
  EXPECT_EQ(abq::format_duration(3720), "1h02m");
}

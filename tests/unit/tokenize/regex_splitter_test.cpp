// RegexSplitter: expected pieces worked out by hand from the GPT-2 / LLaMA-3 / Qwen2 patterns
// (the same splits Hugging Face `tokenizers` produces for these strings).
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/tokenize/regex_splitter.h"

namespace abq::tokenize {
namespace {

using Pieces = std::vector<std::string>;

TEST(RegexSplitter, Gpt2Pattern) {
  const RegexSplitter s(pre_tokenizer_patterns("gpt-2"));
  EXPECT_EQ(s.split("Hello world's 12345!!  x  "), (Pieces{"Hello", " world", "'s", " 12345", "!!", " ", " x", "  "}));
}

TEST(RegexSplitter, Llama3GroupsDigitsByThree) {
  const RegexSplitter s(pre_tokenizer_patterns("llama-bpe"));
  EXPECT_EQ(s.split("1234567 I'LL"), (Pieces{"123", "456", "7", " I", "'LL"}));
}

TEST(RegexSplitter, Qwen2SplitsSingleDigits) {
  const RegexSplitter s(pre_tokenizer_patterns("qwen2"));
  EXPECT_EQ(s.split("x123"), (Pieces{"x", "1", "2", "3"}));
}

TEST(RegexSplitter, SmollmSplitsDigitsThenGpt2) {
  const RegexSplitter s(pre_tokenizer_patterns("smollm"));
  EXPECT_EQ(s.split("ab 12"), (Pieces{"ab", " ", "1", "2"}));
}

TEST(RegexSplitter, InvalidUtf8IsKeptNotLost) {
  const RegexSplitter s(pre_tokenizer_patterns("gpt-2"));
  std::string joined;
  for (const auto& p : s.split("a\xFF\xFE b")) joined += p;
  EXPECT_EQ(joined, "a\xFF\xFE b");
}

TEST(RegexSplitter, UnknownPreTypeListsSupported) {
  try {
    pre_tokenizer_patterns("qwen3");
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("supported: default, gpt-2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("did you mean 'qwen2'"), std::string::npos) << e.what();
  }
}

TEST(RegexSplitter, BadPatternThrows) { EXPECT_THROW(RegexSplitter({"(unclosed"}), Error); }

}  // namespace
}  // namespace abq::tokenize

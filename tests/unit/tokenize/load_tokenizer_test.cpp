// load_tokenizer dispatch: expected kinds follow from the file types (tokenizer.h name() strings).
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/tokenize/load_tokenizer.h"
#include "tests/unit/tokenize/test_vectors.h"

namespace abq::tokenize {
namespace {

TEST(LoadTokenizer, DirectoryWithTokenizerJson) {
  const auto tok = load_tokenizer(testing::fixture_path("hf-llama2"));
  EXPECT_EQ(tok->name(), "bpe-byte-fallback(32000 tokens)");
}

TEST(LoadTokenizer, RejectsOtherFiles) {
  try {
    load_tokenizer(testing::fixture_path("ggml-vocab-gpt-2.gguf"));
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has extension '.gguf'; accepted: a tokenizer.json"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(load_tokenizer("/nonexistent/dir/tokenizer.json"), Error);
  EXPECT_THROW(load_tokenizer(testing::fixture_path("")), Error);  // a directory with neither file
}

}  // namespace
}  // namespace abq::tokenize

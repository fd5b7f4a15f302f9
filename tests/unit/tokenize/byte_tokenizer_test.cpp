// Byte tokenizer: expected ids are the input bytes by definition (tokenizer.h), BOS 256, EOS 257.
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::tokenize {
namespace {

TEST(ByteTokenizer, EncodesBytesAndBos) {
  const auto tok = make_byte_tokenizer();
  EXPECT_EQ(tok->vocab_size(), 258);
  EXPECT_EQ(tok->bos_id(), 256);
  EXPECT_EQ(tok->eos_id(), 257);
  EXPECT_EQ(tok->encode("Az\xC3\xA9", false), (std::vector<int64_t>{65, 122, 0xC3, 0xA9}));
  EXPECT_EQ(tok->encode("A", true), (std::vector<int64_t>{256, 65}));
  EXPECT_TRUE(tok->encode("", false).empty());
}

TEST(ByteTokenizer, RoundTripsEveryByte) {
  const auto tok = make_byte_tokenizer();
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  auto ids = tok->encode(all, true);
  ids.push_back(tok->eos_id());
  EXPECT_EQ(tok->decode(ids), all);
}

TEST(ByteTokenizer, RejectsOutOfRangeIds) {
  const auto tok = make_byte_tokenizer();
  EXPECT_THROW(tok->decode({258}), Error);
  EXPECT_THROW(tok->decode({-1}), Error);
}

}  // namespace
}  // namespace abq::tokenize

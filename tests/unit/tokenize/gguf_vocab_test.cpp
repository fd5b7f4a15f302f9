// GGUF vocabularies against llama.cpp's tokenizer test vectors (tests/fixtures/tokenizers/
// ggml-vocab-*.gguf.inp/.out, produced by Hugging Face `tokenizers` with add_special_tokens=False,
// the same check llama.cpp's test-tokenizer-0 makes). Special-token and BOS expectations use ids
// read from the same vocabularies (GGUF keys) and the "Hello" vector.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "framework/core/error.h"
#include "framework/io/gguf.h"
#include "framework/tokenize/gguf_vocab.h"
#include "tests/unit/tokenize/test_vectors.h"

namespace abq::tokenize {
namespace {

using testing::fixture_path;
using testing::ids_to_string;
using testing::read_test_vectors;

const Tokenizer& vocab(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) slot = tokenizer_from_gguf(io::GgufFile::open(fixture_path("ggml-vocab-" + name + ".gguf")));
  return *slot;
}

std::vector<int64_t> expected_for(const std::string& name, const std::string& input) {
  for (const auto& v : read_test_vectors(fixture_path("ggml-vocab-" + name + ".gguf"))) {
    if (v.input == input) return v.expected;
  }
  throw Error(cat("no vector for '", input, "'"));
}

class GgufVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufVectors, EveryVectorMatches) {
  const auto& tok = vocab(GetParam());
  const auto vectors = read_test_vectors(fixture_path("ggml-vocab-" + GetParam() + ".gguf"));
  ASSERT_EQ(vectors.size(), 46u);
  int passed = 0;
  for (const auto& v : vectors) {
    const auto got = tok.encode(v.input, false);
    EXPECT_EQ(got, v.expected) << "input '" << v.input << "'\n  expected" << ids_to_string(v.expected)
                               << "\n  got     " << ids_to_string(got);
    passed += got == v.expected;
  }
  std::printf("[ vectors  ] %s: %d/%zu match\n", GetParam().c_str(), passed, vectors.size());
}

TEST_P(GgufVectors, DecodeInvertsEncode) {
  const auto& tok = vocab(GetParam());
  for (const auto& v : read_test_vectors(fixture_path("ggml-vocab-" + GetParam() + ".gguf"))) {
    EXPECT_EQ(tok.decode(tok.encode(v.input, false)), v.input);
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, GgufVectors, ::testing::Values("llama-spm", "llama-bpe", "gpt-2", "qwen2"));

TEST(GgufVocab, BosRules) {
  // llama-spm: tokenizer.ggml.add_bos_token = true, BOS 1.
  const auto& spm = vocab("llama-spm");
  auto hello = expected_for("llama-spm", "Hello");
  EXPECT_EQ(spm.bos_id(), 1);
  EXPECT_EQ(spm.eos_id(), 2);
  EXPECT_EQ(spm.encode("Hello", false), hello);
  hello.insert(hello.begin(), 1);
  EXPECT_EQ(spm.encode("Hello", true), hello);

  // llama-bpe: no add_bos key, pre "llama-bpe" -> BOS added (llama.cpp rule), BOS 128000.
  const auto& llama3 = vocab("llama-bpe");
  auto hello3 = expected_for("llama-bpe", "Hello");
  hello3.insert(hello3.begin(), 128000);
  EXPECT_EQ(llama3.bos_id(), 128000);
  EXPECT_EQ(llama3.encode("Hello", true), hello3);

  // gpt-2 and qwen2: byte-level BPE without BOS by default.
  for (const char* name : {"gpt-2", "qwen2"}) {
    EXPECT_EQ(vocab(name).encode("Hello", true), expected_for(name, "Hello")) << name;
  }
}

TEST(GgufVocab, SpecialTokensMatchLiterally) {
  const auto& llama3 = vocab("llama-bpe");
  const auto eot = llama3.encode("<|eot_id|>", false);
  ASSERT_EQ(eot.size(), 1u);
  auto expected = expected_for("llama-bpe", "Hello");
  expected.insert(expected.begin(), 128000);
  expected.push_back(eot[0]);
  EXPECT_EQ(llama3.encode("<|begin_of_text|>Hello<|eot_id|>", false), expected);
  EXPECT_EQ(llama3.decode(llama3.encode("a<|eot_id|>b", false)), "a<|eot_id|>b");

  // SPM: text after a special token gets the dummy prefix again (llama.cpp).
  const auto& spm = vocab("llama-spm");
  auto spm_expected = expected_for("llama-spm", "Hello");
  spm_expected.insert(spm_expected.begin(), 2);
  EXPECT_EQ(spm.encode("</s>Hello", false), spm_expected);

  const auto& qwen = vocab("qwen2");
  const auto chat = qwen.encode("<|im_start|>user\nHi<|im_end|>", false);
  ASSERT_GE(chat.size(), 3u);
  EXPECT_EQ(qwen.encode("<|im_start|>", false), std::vector<int64_t>{chat.front()});
  EXPECT_EQ(qwen.decode(chat), "<|im_start|>user\nHi<|im_end|>");
}

TEST(GgufVocab, GptNeoxLoadsWithGpt2Rules) {
  const auto& neox = vocab("gpt-neox");
  EXPECT_EQ(neox.vocab_size(), 50432);
  EXPECT_EQ(neox.bos_id(), 0);
  const std::string text = "Hello world, 12345 \xF0\x9F\xA6\x99!";
  EXPECT_EQ(neox.decode(neox.encode(text, false)), text);
  // Runs of spaces are user-defined tokens in GPT-NeoX and match literally.
  EXPECT_EQ(neox.encode("    ", false).size(), 1u);
}

// A GGUF file with only the given string keys and string arrays (GGUF v3 layout, little endian).
std::string write_gguf(const std::string& name, const std::vector<std::pair<std::string, std::string>>& strings,
                       const std::vector<std::pair<std::string, std::vector<std::string>>>& arrays) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream out(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
  auto u64 = [&](uint64_t v) { out.write(reinterpret_cast<const char*>(&v), 8); };
  auto str = [&](const std::string& s) {
    u64(s.size());
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
  };
  out.write("GGUF", 4);
  u32(3);
  u64(0);
  u64(strings.size() + arrays.size());
  for (const auto& [key, value] : strings) {
    str(key);
    u32(8);  // string
    str(value);
  }
  for (const auto& [key, values] : arrays) {
    str(key);
    u32(9);  // array
    u32(8);  // of strings
    u64(values.size());
    for (const auto& v : values) str(v);
  }
  return path;
}

std::string error_of(const std::string& path) {
  try {
    tokenizer_from_gguf(io::GgufFile::open(path));
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(GgufVocab, ErrorsNameKeyAndSupportedValues) {
  const auto none = write_gguf("abq_tok_none.gguf", {{"general.architecture", "llama"}}, {});
  EXPECT_NE(error_of(none).find("missing key tokenizer.ggml.model"), std::string::npos) << error_of(none);

  const auto bert = write_gguf("abq_tok_bert.gguf", {{"tokenizer.ggml.model", "bert"}}, {{"tokenizer.ggml.tokens", {"a"}}});
  EXPECT_NE(error_of(bert).find("'bert'; supported: gpt2, llama"), std::string::npos) << error_of(bert);

  const auto pre = write_gguf("abq_tok_pre.gguf", {{"tokenizer.ggml.model", "gpt2"}, {"tokenizer.ggml.pre", "qwen9"}},
                              {{"tokenizer.ggml.tokens", {"a", "b"}}, {"tokenizer.ggml.merges", {"a b"}}});
  EXPECT_NE(error_of(pre).find("unknown byte-level BPE pre-tokenizer 'qwen9'; supported:"), std::string::npos)
      << error_of(pre);
  EXPECT_NE(error_of(pre).find("while reading the tokenizer of"), std::string::npos) << error_of(pre);

  const auto merges = write_gguf("abq_tok_merge.gguf", {{"tokenizer.ggml.model", "gpt2"}},
                                 {{"tokenizer.ggml.tokens", {"a", "b"}}, {"tokenizer.ggml.merges", {"ab"}}});
  EXPECT_NE(error_of(merges).find("BPE merge 'ab' is malformed"), std::string::npos) << error_of(merges);
  for (const auto& p : {none, bert, pre, merges}) std::filesystem::remove(p);
}

}  // namespace
}  // namespace abq::tokenize

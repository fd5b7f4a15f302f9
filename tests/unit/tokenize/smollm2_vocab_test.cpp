// SmolLM2's tokenizer (GGUF tokenizer.ggml.pre = "smollm") on the two wikitext-2 test pages where
// lm-evaluation-harness, given the tokenizer transformers builds from the GGUF, scored other
// tokens than abq. Expected pieces: worked out by hand from HF `tokenizers`'
// Sequence[Digits(individual_digits=true), ByteLevel] (SmolLM2's tokenizer.json), which splits
// every \p{N} character (also '½', category No) off before the GPT-2 pattern runs. Expected ids:
// HF `tokenizers` 0.23 with that pre-tokenizer over the GGUF's own vocabulary and merges
// (tools/bench/lmeval_wikitext.py --tokenizer smollm). transformers' GGUF converter drops the
// Digits step, and gives " ½" -> [3351, 138] and "==\n\n20" -> [1758, 198, 198, 34, 32] instead.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "framework/io/gguf.h"
#include "framework/tokenize/gguf_vocab.h"
#include "framework/tokenize/regex_splitter.h"

namespace abq::tokenize {
namespace {

using Pieces = std::vector<std::string>;

TEST(SmollmPreTokenizer, SplitsEveryNumericCharacterOffFirst) {
  const RegexSplitter s(pre_tokenizer_patterns("smollm"));
  EXPECT_EQ(s.split("died 4 \xC2\xBD months"), (Pieces{"died", " ", "4", " ", "\xC2\xBD", " months"}));
  EXPECT_EQ(s.split("==\n\n20 Type"), (Pieces{"==", "\n\n", "2", "0", " Type"}));
}

std::string smollm2_gguf() {
  if (const char* cache = std::getenv("ABQ_MODEL_CACHE")) return std::string(cache) + "/SmolLM2-135M-Instruct.Q4_1.gguf";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/abq/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

TEST(SmolLM2Vocab, WikitextPagesWhereLmEvalsConvertedTokenizerDiffers) {
  const std::string path = smollm2_gguf();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not present";
  const auto tok = tokenizer_from_gguf(io::GgufFile::open(path));
  // Page 43 (0-based) of wiki.test.raw, detokenized.
  EXPECT_EQ(tok->encode("who died 4 \xC2\xBD months later", false),
            (std::vector<int64_t>{11634, 4242, 216, 36, 216, 16738, 2704, 1916}));
  // Page 58: a heading, a blank line, then a number.
  EXPECT_EQ(tok->encode("Type VII submarines ==\n\n20 Type", false),
            (std::vector<int64_t>{4820, 21739, 30524, 1758, 1116, 34, 32, 7090}));
}

}  // namespace
}  // namespace abq::tokenize

// sentencepiece tokenizer.model files built by hand here with the field numbers of
// sentencepiece_model.proto (google/sentencepiece); expected ids are worked out by hand from the
// SPM rule in spm_tokenizer.h (merge the adjacent pair whose piece scores highest). The check
// against libsentencepiece itself lives in sentencepiece_model_tokenizer_test.cpp. LLaMA's vocabulary
// (from the llama.cpp GGUF fixture) written as a tokenizer.model must give llama.cpp's vector ids.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "framework/core/error.h"
#include "framework/io/gguf.h"
#include "framework/tokenize/gguf_vocab.h"
#include "framework/tokenize/load_tokenizer.h"
#include "framework/tokenize/sentencepiece_model_file.h"
#include "framework/tokenize/sentencepiece_model_tokenizer.h"
#include "tests/unit/tokenize/test_vectors.h"

namespace abq::tokenize {
namespace {

namespace fs = std::filesystem;

// --- a tiny protobuf writer: tag = field << 3 | wire type ---
std::string varint(uint64_t v) {
  std::string out;
  do {
    out.push_back(static_cast<char>((v & 0x7F) | (v >= 0x80 ? 0x80 : 0)));
    v >>= 7;
  } while (v != 0);
  return out;
}
std::string int_field(uint32_t field, int64_t value) { return varint(field << 3 | 0) + varint(static_cast<uint64_t>(value)); }
std::string bytes_field(uint32_t field, const std::string& payload) {
  return varint(field << 3 | 2) + varint(payload.size()) + payload;
}
std::string float_field(uint32_t field, float value) {
  char raw[4];
  std::memcpy(raw, &value, 4);
  return varint(field << 3 | 5) + std::string(raw, 4);
}
std::string piece(const std::string& text, float score, int type = 0) {
  return bytes_field(1, bytes_field(1, text) + float_field(2, score) + (type ? int_field(3, type) : ""));
}

const std::string kSpace = "\xE2\x96\x81";  // ▁

// <unk> <s> </s> ▁a ab ▁ a b ; model_type BPE; scores decide ▁a vs ab.
std::string bpe_model(float score_space_a, float score_ab, const std::string& extra_trainer = "") {
  return piece("<unk>", 0, 2) + piece("<s>", 0, 3) + piece("</s>", 0, 3) + piece(kSpace + "a", score_space_a) +
         piece("ab", score_ab) + piece(kSpace, -3) + piece("a", -4) + piece("b", -5) +
         bytes_field(2, int_field(3, 2) + extra_trainer) +
         bytes_field(3, bytes_field(1, "identity") + int_field(4, 0));
}

std::string write(const std::string& name, const std::string& data) {
  const fs::path path = fs::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary) << data;
  return path.string();
}

TEST(SentencePieceModelFile, ParsesPiecesSpecsAndDefaults) {
  // unknown fields in every message are skipped: ModelProto 4 (self_test_data), SentencePiece 200,
  // TrainerSpec 10 (float) and 1 (string), NormalizerSpec 6
  const std::string data = bytes_field(1, bytes_field(1, "<unk>") + int_field(3, 2) + int_field(200, 5)) +
                           piece("<0x41>", 0, 6) + piece("x", -1.25f) + bytes_field(4, "ignored") +
                           bytes_field(2, bytes_field(1, "corpus.txt") + int_field(3, 2) + float_field(10, 0.98f) +
                                              int_field(35, 1) + int_field(40, 0) + int_field(41, -1) +
                                              int_field(42, 2) + int_field(43, -1)) +
                           bytes_field(3, bytes_field(1, "identity") + int_field(3, 0) + bytes_field(6, "tsv"));
  const SpmModelFile m = parse_spm_model(data, "m.model");
  ASSERT_EQ(m.pieces.size(), 3u);
  EXPECT_EQ(m.pieces[0].piece, "<unk>");
  EXPECT_EQ(m.pieces[0].type, TokenType::kUnknown);
  EXPECT_EQ(m.pieces[1].type, TokenType::kByte);
  EXPECT_EQ(m.pieces[2].piece, "x");
  EXPECT_EQ(m.pieces[2].score, -1.25f);
  EXPECT_EQ(m.pieces[2].type, TokenType::kNormal);  // proto default
  EXPECT_EQ(m.model_type, SpmModelType::kBpe);
  EXPECT_TRUE(m.byte_fallback);
  EXPECT_EQ(m.unk_id, 0);
  EXPECT_EQ(m.bos_id, -1);
  EXPECT_EQ(m.eos_id, 2);
  EXPECT_EQ(m.pad_id, -1);
  EXPECT_EQ(m.normalizer_name, "identity");
  EXPECT_FALSE(m.add_dummy_prefix);
  EXPECT_TRUE(m.remove_extra_whitespaces);  // proto default, not written
  EXPECT_FALSE(m.has_precompiled_charsmap);

  // proto2 defaults when the specs are absent: UNIGRAM, unk 0, bos 1, eos 2, pad -1
  const SpmModelFile d = parse_spm_model(piece("a", 0) + piece("b", 0) + piece("c", 0), "d.model");
  EXPECT_EQ(d.model_type, SpmModelType::kUnigram);
  EXPECT_FALSE(d.byte_fallback);
  EXPECT_EQ(d.bos_id, 1);
  EXPECT_EQ(d.eos_id, 2);
  EXPECT_EQ(d.pad_id, -1);
  EXPECT_TRUE(d.add_dummy_prefix);
}

TEST(SentencePieceModelFile, BadValuesNameFileAndOffset) {
  auto error_of = [](const std::string& data) -> std::string {
    try {
      parse_spm_model(data, "m.model");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error_of(piece("a", 0) + piece("b", 0, 9)),
            "'m.model': piece at byte offset 10 has type 9; expected 1..6 (NORMAL, UNKNOWN, CONTROL, USER_DEFINED, "
            "UNUSED, BYTE)");
  EXPECT_NE(error_of(bytes_field(1, float_field(2, 1))).find("piece at byte offset 0 has no text"), std::string::npos);
  EXPECT_NE(error_of(bytes_field(2, int_field(3, 2))).find("holds no sentencepiece pieces"), std::string::npos);
  EXPECT_EQ(error_of(piece("a", 0) + piece("b", 0) + piece("c", 0) + bytes_field(2, int_field(42, 5))),
            "'m.model': TrainerSpec.eos_id is 5; expected -1 or 0..2 for a vocabulary of 3 pieces");
  // a piece whose score field claims 4 bytes but the message ends after 2
  const std::string truncated = bytes_field(1, bytes_field(1, "a") + varint(2 << 3 | 5) + "\x01\x02");
  EXPECT_EQ(error_of(truncated),
            "'m.model' is not a valid protobuf message at byte offset 5: field 2 (fixed32) needs 4 bytes but only 2 "
            "remain");
}

TEST(SentencePieceModelTokenizer, HandBuiltBpeModelFollowsScores) {
  // "ab" -> "▁ab" = ▁ a b. Pairs: ▁a and ab. The higher score merges first; ▁ab is not a piece.
  const auto first = write("abq_spm_first.model", bpe_model(-1, -2));
  const SentencePieceModelTokenizer tok(first);
  EXPECT_EQ(tok.encode("ab", false), (std::vector<int64_t>{3, 7}));       // ▁a b
  EXPECT_EQ(tok.encode("ab", true), (std::vector<int64_t>{1, 3, 7}));     // <s> first (bos_id 1 by default)
  EXPECT_EQ(tok.encode("b  a", false), (std::vector<int64_t>{5, 7, 5, 3}));  // ▁ b ▁ ▁a: spaces kept
  EXPECT_EQ(tok.decode({1, 3, 7}), "ab");
  EXPECT_EQ(tok.vocab_size(), 8);
  EXPECT_EQ(tok.eos_id(), 2);
  const auto second = write("abq_spm_second.model", bpe_model(-2, -1));
  EXPECT_EQ(SentencePieceModelTokenizer(second).encode("ab", false), (std::vector<int64_t>{5, 4}));  // ▁ ab
  // load_tokenizer dispatches .model files here
  EXPECT_EQ(load_tokenizer(first)->encode("ab", false), (std::vector<int64_t>{3, 7}));
  // unknown characters without byte pieces: one <unk> (id 0) per run, as libsentencepiece does
  EXPECT_EQ(tok.encode("c\xC3\xA9", false), (std::vector<int64_t>{5, 0}));
  EXPECT_EQ(tok.encode("cac", false), (std::vector<int64_t>{5, 0, 6, 0}));
  EXPECT_EQ(tok.decode({5, 0, 6, 0}), " \xE2\x81\x87 a \xE2\x81\x87 ");  // unk_surface default
  fs::remove(first);
  fs::remove(second);
}

TEST(SentencePieceModelTokenizer, LlamaVocabularyMatchesLlamaCppVectors) {
  // LLaMA's tokenizer.model settings: BPE, byte fallback, identity, spaces kept as written.
  const auto gguf = testing::fixture_path("ggml-vocab-llama-spm.gguf");
  const SpmVocab spm = spm_vocab_from_gguf(io::GgufFile::open(gguf));
  std::string data;
  for (size_t i = 0; i < spm.tokens.size(); ++i) {
    const int type = spm.token_types.empty() ? 1 : static_cast<int>(spm.token_types[i]);
    data += piece(spm.tokens[i], spm.scores[i], type);
  }
  data += bytes_field(2, int_field(3, 2) + int_field(35, 1) + int_field(40, spm.unk) + int_field(41, spm.bos) +
                             int_field(42, spm.eos));
  data += bytes_field(3, bytes_field(1, "identity") + int_field(4, 0));
  const auto path = write("abq_spm_llama.model", data);
  const SentencePieceModelTokenizer tok(path);
  EXPECT_EQ(tok.vocab_size(), 32000);
  int compared = 0;
  for (const auto& v : testing::read_test_vectors(gguf)) {
    EXPECT_EQ(tok.encode(v.input, false), v.expected) << "input '" << v.input << "'";
    ++compared;
  }
  EXPECT_GT(compared, 40);
  fs::remove(path);
}

TEST(SentencePieceModelTokenizer, RemoveExtraWhitespacesSqueezesSpaces) {
  // NormalizerSpec.remove_extra_whitespaces left at its default (true): "  b  a " -> "b a"
  const std::string data = piece("<unk>", 0, 2) + piece("<s>", 0, 3) + piece("</s>", 0, 3) + piece(kSpace, -3) +
                           piece("a", -4) + piece("b", -5) + bytes_field(2, int_field(3, 2));
  const auto path = write("abq_spm_squeeze.model", data);
  EXPECT_EQ(SentencePieceModelTokenizer(path).encode("  b  a ", false), (std::vector<int64_t>{3, 5, 3, 4}));
  fs::remove(path);
}

TEST(SentencePieceModelTokenizer, RefusesWhatItCannotReproduce) {
  auto error_of = [](const std::string& data) -> std::string {
    const auto path = write("abq_spm_refused.model", data);
    try {
      SentencePieceModelTokenizer tok(path);
    } catch (const Error& e) {
      fs::remove(path);
      return e.what();
    }
    fs::remove(path);
    return "";
  };
  const std::string pieces = piece("<unk>", 0, 2) + piece("<s>", 0, 3) + piece("</s>", 0, 3);
  EXPECT_NE(error_of(pieces).find("is of type UNIGRAM; only BPE-type sentencepiece models"), std::string::npos);
  EXPECT_NE(error_of(pieces + bytes_field(2, int_field(3, 3))).find("is of type WORD"), std::string::npos);
  EXPECT_NE(error_of(pieces + bytes_field(2, int_field(3, 2)) +
                     bytes_field(3, bytes_field(1, "nmt_nfkc") + bytes_field(2, "\x01\x02")))
                .find("applies the normalization rule 'nmt_nfkc'; only identity normalization"),
            std::string::npos);
  EXPECT_NE(error_of("not a protobuf").find("is not a valid protobuf message at byte offset"), std::string::npos);
  EXPECT_NE(error_of("").find("holds no sentencepiece pieces"), std::string::npos);
  EXPECT_THROW(SentencePieceModelTokenizer("/nonexistent/tokenizer.model"), Error);
}

}  // namespace
}  // namespace abq::tokenize

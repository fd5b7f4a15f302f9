// SentencePieceModelTokenizer (our protobuf reader + SpmTokenizer) against libsentencepiece itself,
// the reference implementation: small models are trained here with libsentencepiece's trainer
// (identity normalisation, as LLaMA's), and our parsed pieces/scores/types/ids and our token ids
// must equal what libsentencepiece reports for the same file. This binary links libsentencepiece
// and must never link LibTorch (two libprotobuf copies crash at load time).
#include <unistd.h>
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "framework/core/error.h"
#include "framework/tokenize/sentencepiece_model_file.h"
#include "framework/tokenize/sentencepiece_model_tokenizer.h"
#include "tests/unit/tokenize/test_vectors.h"

namespace abq::tokenize {
namespace {

namespace fs = std::filesystem;

class TrainedModels : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One directory per process: ctest runs each test case as its own process, in parallel.
    dir_ = fs::temp_directory_path() / ("abq_tok_spm_reference_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // Corpus: the llama.cpp vector inputs, repeated with variations so BPE has pairs to learn.
    std::ofstream corpus(dir_ / "corpus.txt");
    for (const auto& v : testing::read_test_vectors(testing::fixture_path("ggml-vocab-llama-spm.gguf"))) {
      for (int i = 0; i < 20; ++i) corpus << v.input << " the quick brown fox " << i << "\n";
    }
    corpus.close();
    const std::string common = "--input=" + (dir_ / "corpus.txt").string() +
                               " --normalization_rule_name=identity --hard_vocab_limit=false --minloglevel=2";
    // LLaMA-like: BPE, byte fallback, spaces kept as written.
    train(common + " --model_prefix=" + (dir_ / "bytes").string() +
          " --model_type=bpe --vocab_size=600 --byte_fallback=true --remove_extra_whitespaces=false"
          " --character_coverage=0.98");
    // No byte fallback (rare characters become <unk>), spaces squeezed, special ids moved.
    train(common + " --model_prefix=" + (dir_ / "unk").string() +
          " --model_type=bpe --vocab_size=400 --character_coverage=0.98 --unk_id=3 --bos_id=0 --eos_id=1"
          " --pad_id=2");
    train(common + " --model_prefix=" + (dir_ / "unigram").string() + " --model_type=unigram --vocab_size=300");
  }
  static void train(const std::string& args) {
    const auto status = sentencepiece::SentencePieceTrainer::Train(args);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string path(const std::string& name) { return (dir_ / (name + ".model")).string(); }

  static std::unique_ptr<sentencepiece::SentencePieceProcessor> reference(const std::string& name) {
    auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
    const auto status = sp->Load(path(name));
    EXPECT_TRUE(status.ok()) << status.ToString();
    return sp;
  }

  static std::vector<std::string> inputs() {
    std::vector<std::string> out = {"the quick brown fox", "  two  spaces ", "\xE2\x9C\x85 unseen \xE4\xB8\xAD",
                                    "tab\there", " leading", "trailing  "};
    for (const auto& v : testing::read_test_vectors(testing::fixture_path("ggml-vocab-llama-spm.gguf"))) {
      if (!v.input.empty()) out.push_back(v.input);
    }
    return out;
  }

  // Our parse of the file equals what libsentencepiece loaded from it.
  static void expect_same_model(const std::string& name) {
    const auto holder = reference(name);
    const auto& sp = *holder;
    const SpmModelFile ours = read_spm_model_file(path(name));
    ASSERT_EQ(static_cast<int>(ours.pieces.size()), sp.GetPieceSize());
    for (int id = 0; id < sp.GetPieceSize(); ++id) {
      const auto& p = ours.pieces[id];
      EXPECT_EQ(p.piece, sp.IdToPiece(id)) << name << " id " << id;
      EXPECT_EQ(p.score, sp.GetScore(id)) << name << " id " << id;
      EXPECT_EQ(p.type == TokenType::kUnknown, sp.IsUnknown(id)) << name << " id " << id;
      EXPECT_EQ(p.type == TokenType::kControl, sp.IsControl(id)) << name << " id " << id;
      EXPECT_EQ(p.type == TokenType::kByte, sp.IsByte(id)) << name << " id " << id;
      EXPECT_EQ(p.type == TokenType::kUnused, sp.IsUnused(id)) << name << " id " << id;
    }
    EXPECT_EQ(ours.unk_id, sp.unk_id());
    EXPECT_EQ(ours.bos_id, sp.bos_id());
    EXPECT_EQ(ours.eos_id, sp.eos_id());
    EXPECT_EQ(ours.pad_id, sp.pad_id());
    EXPECT_EQ(ours.normalizer_name, "identity");
  }

  // Our ids equal libsentencepiece's (BOS prepended by hand: its Encode never adds one).
  static int expect_same_ids(const std::string& name) {
    const auto holder = reference(name);
    const auto& sp = *holder;
    const SentencePieceModelTokenizer ours(path(name));
    EXPECT_EQ(ours.vocab_size(), sp.GetPieceSize());
    EXPECT_EQ(ours.bos_id(), sp.bos_id());
    EXPECT_EQ(ours.eos_id(), sp.eos_id());
    int compared = 0;
    for (const auto& input : inputs()) {
      std::vector<int> ids;
      EXPECT_TRUE(sp.Encode(input, &ids).ok());
      std::vector<int64_t> expected = {sp.bos_id()};
      expected.insert(expected.end(), ids.begin(), ids.end());
      EXPECT_EQ(ours.encode(input, true), expected) << name << ": input '" << input << "'";
      std::string text;
      EXPECT_TRUE(sp.Decode(ids, &text).ok());
      EXPECT_EQ(ours.decode(ours.encode(input, false)), text) << name << ": input '" << input << "'";
      ++compared;
    }
    return compared;
  }

  static fs::path dir_;
};
fs::path TrainedModels::dir_;

TEST_F(TrainedModels, ByteFallbackBpeMatchesLibsentencepiece) {
  expect_same_model("bytes");
  const SpmModelFile m = read_spm_model_file(path("bytes"));
  EXPECT_EQ(m.model_type, SpmModelType::kBpe);
  EXPECT_TRUE(m.byte_fallback);
  EXPECT_FALSE(m.remove_extra_whitespaces);
  EXPECT_TRUE(m.add_dummy_prefix);
  const SentencePieceModelTokenizer ours(path("bytes"));
  ASSERT_GT(ours.vocab_size(), 259);                               // 3 specials + 256 bytes + merges
  EXPECT_LT(ours.encode("the quick brown fox", false).size(), 8u);  // merges were learned
  EXPECT_EQ(expect_same_ids("bytes"), 51);
  // byte fallback really happened: U+4E2D is not in the corpus and ends in the byte token <0xAD>
  EXPECT_EQ(ours.spm_vocab().tokens[ours.encode("\xE4\xB8\xAD", false).back()], "<0xAD>");
}

TEST_F(TrainedModels, UnkBpeWithMovedIdsMatchesLibsentencepiece) {
  expect_same_model("unk");
  const SpmModelFile m = read_spm_model_file(path("unk"));
  EXPECT_FALSE(m.byte_fallback);
  EXPECT_TRUE(m.remove_extra_whitespaces);
  EXPECT_EQ(m.unk_id, 3);
  EXPECT_EQ(m.pad_id, 2);
  EXPECT_EQ(expect_same_ids("unk"), 51);
}

TEST_F(TrainedModels, UnigramIsParsedButRefused) {
  expect_same_model("unigram");
  EXPECT_EQ(read_spm_model_file(path("unigram")).model_type, SpmModelType::kUnigram);
  try {
    SentencePieceModelTokenizer tok(path("unigram"));
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is of type UNIGRAM; only BPE-type sentencepiece models"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace abq::tokenize

// Hugging Face tokenizer.json loading.
// - LLaMA tokenizer.json: built here from the llama-spm GGUF vocabulary exactly as transformers'
//   convert_slow_tokenizer (SentencePieceExtractor + LlamaConverter) builds LLaMA's tokenizer.json;
//   it must reproduce llama.cpp's llama-spm test vectors, which came from that converted file.
// - tests/fixtures/tokenizers/hf-llama2/tokenizer.json holds Mistral-7B's 32000-piece vocabulary
//   ("▁" = 28705, "[INST]" = 733 16289 28793), not LLaMA-2's, so the llama-spm ids cannot apply to
//   it; it is checked for BOS/EOS from its own files and for exact decode(encode(x)) == x.
// - Qwen2 and LLaMA-3 tokenizer.json: built here from the GGUF vocabularies with the Split pattern,
//   normalizer and ignore_merges their Hugging Face files declare; they must reproduce the qwen2
//   and llama-bpe vectors.
// - A hand-written byte-level file: ids worked out by hand. Error texts are pinned.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "framework/core/error.h"
#include "framework/io/gguf.h"
#include "framework/tokenize/gguf_vocab.h"
#include "framework/tokenize/hf_tokenizer_json.h"
#include "tests/unit/tokenize/test_vectors.h"

namespace abq::tokenize {
namespace {

using testing::fixture_path;
using testing::ids_to_string;
using testing::read_test_vectors;

class TempFile {
 public:
  TempFile(const std::string& name, const std::string& content)
      : dir_(std::filesystem::temp_directory_path() / ("abq_tok_" + name)) {
    std::filesystem::create_directories(dir_);
    std::ofstream(path()) << content;
  }
  ~TempFile() { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "tokenizer.json").string(); }

 private:
  std::filesystem::path dir_;
};

// transformers convert_slow_tokenizer.py: SentencePieceExtractor.extract (merges: every split of a
// piece into two pieces, ordered by (left id, right id), then all sorted by the piece's score,
// highest first, stably) and LlamaConverter (normalizer, byte fallback, <s> template).
std::string llama_tokenizer_json_from_gguf() {
  const SpmVocab spm = spm_vocab_from_gguf(io::GgufFile::open(fixture_path("ggml-vocab-llama-spm.gguf")));
  nlohmann::json vocab = nlohmann::json::object();
  std::unordered_map<std::string, int64_t> ids;
  for (size_t i = 0; i < spm.tokens.size(); ++i) {
    vocab[spm.tokens[i]] = i;
    ids.emplace(spm.tokens[i], static_cast<int64_t>(i));
  }
  struct Merge {
    float score;
    std::string left, right;
  };
  std::vector<Merge> merges;
  for (size_t i = 0; i < spm.tokens.size(); ++i) {
    const std::string& piece = spm.tokens[i];
    std::vector<std::pair<std::pair<int64_t, int64_t>, size_t>> local;
    for (size_t cut = 1; cut < piece.size(); ++cut) {
      const auto l = ids.find(piece.substr(0, cut));
      const auto r = ids.find(piece.substr(cut));
      if (l != ids.end() && r != ids.end()) local.push_back({{l->second, r->second}, cut});
    }
    std::sort(local.begin(), local.end());
    for (const auto& [pair, cut] : local) merges.push_back({spm.scores[i], piece.substr(0, cut), piece.substr(cut)});
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) { return a.score > b.score; });
  nlohmann::json merge_lines = nlohmann::json::array();
  for (const auto& m : merges) merge_lines.push_back(m.left + " " + m.right);
  nlohmann::json added = nlohmann::json::array();
  for (int64_t id : {0, 1, 2}) added.push_back({{"id", id}, {"content", spm.tokens[id]}, {"special", true}});
  const nlohmann::json root = {
      {"added_tokens", added},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}}}}}},
      {"pre_tokenizer", nullptr},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}}}},
      {"model",
       {{"type", "BPE"}, {"unk_token", "<unk>"}, {"fuse_unk", true}, {"byte_fallback", true}, {"vocab", vocab},
        {"merges", merge_lines}}}};
  return root.dump();
}

TEST(HfTokenizerJson, ConvertedLlamaMatchesSpmVectors) {
  const TempFile f("llama", llama_tokenizer_json_from_gguf());
  const auto tok = load_hf_tokenizer_json(f.path());
  EXPECT_EQ(tok->name(), "bpe-byte-fallback(32000 tokens)");
  const auto vectors = read_test_vectors(fixture_path("ggml-vocab-llama-spm.gguf"));
  int passed = 0;
  for (const auto& v : vectors) {
    const auto got = tok->encode(v.input, false);
    EXPECT_EQ(got, v.expected) << "input '" << v.input << "'\n  expected" << ids_to_string(v.expected)
                               << "\n  got     " << ids_to_string(got);
    passed += got == v.expected;
    EXPECT_EQ(tok->decode(tok->encode(v.input, true)), v.input);
  }
  std::printf("[ vectors  ] llama-spm via converted tokenizer.json: %d/%zu match\n", passed, vectors.size());
}

// tokenizer.json as Qwen2 / LLaMA-3 ship it: vocab + merges from the GGUF file, control and
// user-defined tokens as added_tokens, Sequence[Split(pattern, Isolated), ByteLevel(use_regex=false)].
std::string byte_level_json_from_gguf(const std::string& name, const std::string& pattern, bool ignore_merges,
                                      bool nfc) {
  const BpeVocab bpe = bpe_vocab_from_gguf(io::GgufFile::open(fixture_path("ggml-vocab-" + name + ".gguf")));
  nlohmann::json vocab = nlohmann::json::object();
  nlohmann::json added = nlohmann::json::array();
  for (size_t i = 0; i < bpe.tokens.size(); ++i) {
    const TokenType t = bpe.token_types[i];
    if (t == TokenType::kControl || t == TokenType::kUserDefined) {
      added.push_back({{"id", i}, {"content", bpe.tokens[i]}, {"special", t == TokenType::kControl}});
    } else {
      vocab[bpe.tokens[i]] = i;
    }
  }
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [l, r] : bpe.merges) merges.push_back({l, r});  // the newer pair form
  return nlohmann::json{
      {"added_tokens", added},
      {"normalizer", nfc ? nlohmann::json{{"type", "NFC"}} : nlohmann::json()},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}}},
      {"model",
       {{"type", "BPE"}, {"ignore_merges", ignore_merges}, {"vocab", vocab}, {"merges", merges}}}}
      .dump();
}

TEST(HfTokenizerJson, ByteLevelFilesMatchVectors) {
  struct Case {
    std::string name, pattern;
    bool ignore_merges, nfc;
  };
  const std::vector<Case> cases = {
      {"qwen2",
       R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
       false, true},
      {"llama-bpe",
       R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
       true, false},
  };
  for (const auto& c : cases) {
    const TempFile f(c.name, byte_level_json_from_gguf(c.name, c.pattern, c.ignore_merges, c.nfc));
    const auto tok = load_hf_tokenizer_json(f.path());
    const auto vectors = read_test_vectors(fixture_path("ggml-vocab-" + c.name + ".gguf"));
    int passed = 0;
    for (const auto& v : vectors) {
      const auto got = tok->encode(v.input, false);
      EXPECT_EQ(got, v.expected) << c.name << " input '" << v.input << "'";
      passed += got == v.expected;
    }
    std::printf("[ vectors  ] %s via tokenizer.json: %d/%zu match\n", c.name.c_str(), passed, vectors.size());
  }
}

TEST(HfTokenizerJson, MistralFixtureRoundTripsAndBos) {
  const auto tok = load_hf_tokenizer_json(fixture_path("hf-llama2/tokenizer.json"));
  EXPECT_EQ(tok->vocab_size(), 32000);
  EXPECT_EQ(tok->bos_id(), 1);  // post_processor TemplateProcessing "<s>"
  EXPECT_EQ(tok->eos_id(), 2);  // tokenizer_config.json eos_token "</s>"
  // "[INST]" is "▁[" "INST" "]" in this vocabulary (ids looked up in its tokenizer.json).
  EXPECT_EQ(tok->encode("[INST]", true), (std::vector<int64_t>{1, 733, 16289, 28793}));
  for (const auto& v : read_test_vectors(fixture_path("ggml-vocab-llama-spm.gguf"))) {
    EXPECT_EQ(tok->decode(tok->encode(v.input, true)), v.input);
  }
}

std::string error_of(const std::string& path) {
  try {
    load_hf_tokenizer_json(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(HfTokenizerJson, TinyByteLevelFileWithArrayMerges) {
  // vocab: the 4 byte-level symbols of "ab c" plus two merges in the newer ["a", "b"] form.
  const TempFile f("tiny", R"({"added_tokens":[{"id":6,"content":"<|end|>","special":true}],
    "normalizer":null,
    "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
    "post_processor":null,
    "model":{"type":"BPE","vocab":{"a":0,"b":1,"c":2,"\u0120":3,"ab":4,"\u0120c":5},
             "merges":[["a","b"],["\u0120","c"]]}})");
  const auto tok = load_hf_tokenizer_json(f.path());
  EXPECT_EQ(tok->encode("ab c<|end|>", true), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(tok->decode({4, 5, 6}), "ab c<|end|>");
  EXPECT_EQ(tok->bos_id(), -1);
}

TEST(HfTokenizerJson, MetaspaceFirstSchemeAndFusedUnknowns) {
  // Expected ids by hand: "a xy a" -> "▁a▁xy▁a"; x and y are unknown and fuse into one <unk>.
  const TempFile f("metaspace", R"({"added_tokens":[{"id":0,"content":"<unk>","special":true},
                                                    {"id":1,"content":"<s>","special":true}],
    "pre_tokenizer":{"type":"Metaspace","replacement":"\u2581","prepend_scheme":"first","split":false},
    "model":{"type":"BPE","unk_token":"<unk>","fuse_unk":true,"byte_fallback":false,
             "vocab":{"<unk>":0,"<s>":1,"\u2581":2,"a":3,"\u2581a":4},"merges":["\u2581 a"]}})");
  const auto tok = load_hf_tokenizer_json(f.path());
  EXPECT_EQ(tok->encode("a xy a", false), (std::vector<int64_t>{4, 2, 0, 4}));
  EXPECT_EQ(tok->encode("<s>a", false), (std::vector<int64_t>{1, 3}));  // "first": no prefix after <s>
  EXPECT_EQ(tok->encode("a<s>a", false), (std::vector<int64_t>{4, 1, 3}));
}

TEST(HfTokenizerJson, ErrorsNameFileAndSupportedModels) {
  const std::string missing = "/nonexistent/tokenizer.json";
  EXPECT_EQ(error_of(missing),
            "while loading tokenizer /nonexistent/tokenizer.json\n  file does not exist or is not a regular file");

  const TempFile bad("bad", "{\"model\": [1, 2");
  EXPECT_NE(error_of(bad.path()).find("is not valid JSON"), std::string::npos) << error_of(bad.path());

  // The limits of every JSON a model ships (core/bounded_json.h): 100,000 levels of nesting used to
  // parse and then overflow the stack when the error was formatted; a repeated key used to win.
  const TempFile deep("deep", "{\"model\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
  EXPECT_NE(error_of(deep.path()).find("nests JSON deeper than 64 levels"), std::string::npos) << error_of(deep.path());
  const TempFile twice("twice", R"({"model":{"type":"BPE","vocab":{"a":0,"a":1},"merges":[]}})");
  EXPECT_NE(error_of(twice.path()).find("has key 'a' twice in one JSON object"), std::string::npos)
      << error_of(twice.path());

  const TempFile unigram("unigram", R"({"model":{"type":"Unigram","vocab":[["a",0.0]]}})");
  const std::string e = error_of(unigram.path());
  EXPECT_NE(e.find("model.type 'Unigram' is not supported; supported: model.type \"BPE\" with a ByteLevel"),
            std::string::npos)
      << e;

  const TempFile lower("lower", R"({"normalizer":{"type":"Lowercase"},"model":{"type":"BPE","vocab":{},"merges":[]}})");
  EXPECT_NE(error_of(lower.path()).find("normalizer {\"type\":\"Lowercase\"} is not supported; expected NFC"),
            std::string::npos)
      << error_of(lower.path());

  const TempFile wordpiece("nomodel", R"({"version":"1.0"})");
  EXPECT_NE(error_of(wordpiece.path()).find("no \"model\" object"), std::string::npos);
}

}  // namespace
}  // namespace abq::tokenize

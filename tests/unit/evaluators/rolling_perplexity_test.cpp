// lm-eval `wikitext` rolling perplexity: documents, detokenizer, word counts, rolling windows,
// aggregation and the evaluator end to end on the tiny model.
// Expected values: tests/fixtures/evaluators/lmeval_wikitext.json, written by
// tools/fixtures/evaluators_lmeval_wikitext.py (the task's rules re-implemented with Python's
// `re`, str.split and str.strip, its own chunk formulation of the rolling windows, and the numpy
// float64 forward of the tiny model). The small window cases are worked out by hand beside them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "evaluators/lm_eval_wikitext.h"
#include "evaluators/registry.h"
#include "evaluators/rolling_perplexity.h"
#include "evaluators/rolling_windows.h"
#include "framework/core/error.h"
#include "framework/core/progress.h"
#include "framework/core/sha256.h"
#include "framework/data/token_windows.h"
#include "framework/io/gguf.h"
#include "framework/tokenize/gguf_vocab.h"
#include "framework/tokenize/tokenizer.h"
#include "tests/unit/evaluators/tiny_fixture.h"

namespace abq::evaluators {
namespace {

using testing::fixture;
using testing::load_tiny;
using testing::read_json;

using Ids = std::vector<int64_t>;

std::vector<std::pair<Ids, Ids>> pairs(const std::vector<TokenRequest>& windows) {
  std::vector<std::pair<Ids, Ids>> out;
  for (const auto& w : windows) out.emplace_back(w.context, w.continuation);
  return out;
}

Ids iota_ids(int64_t n) {
  Ids ids;
  for (int64_t i = 0; i < n; ++i) ids.push_back(100 + i);
  return ids;
}

TEST(RollingWindows, TenTokensMaxLengthFourByHand) {
  // lm-eval get_rolling_token_windows(t, prefix=7, max_seq_len=4, context_len=1) + make_disjoint_window:
  //   ([7, 100, 101, 102], [100..103]) -> context [7]
  //   predicted=4, n=min(6,4)=4, end=8: (t[3:7] = [103..106], [104..107]) -> context [103]
  //   predicted=8, n=2, end=10: (t[5:9] = [105..108], [108, 109]) -> context [105, 106, 107]
  EXPECT_EQ(pairs(rolling_token_windows(iota_ids(10), 7, 4)),
            (std::vector<std::pair<Ids, Ids>>{{{7}, {100, 101, 102, 103}},
                                              {{103}, {104, 105, 106, 107}},
                                              {{105, 106, 107}, {108, 109}}}));
  // context_len 2: pred_len 3; end=7: (t[2:6], [104..106]) -> [102, 103]; end=10: (t[5:9], [107..109]) -> [105, 106]
  EXPECT_EQ(pairs(rolling_token_windows(iota_ids(10), 7, 4, 2)),
            (std::vector<std::pair<Ids, Ids>>{{{7}, {100, 101, 102, 103}},
                                              {{102, 103}, {104, 105, 106}},
                                              {{105, 106}, {107, 108, 109}}}));
  // shorter than M: one window predicting everything from the prefix; empty: no window
  EXPECT_EQ(pairs(rolling_token_windows(iota_ids(3), 7, 4)), (std::vector<std::pair<Ids, Ids>>{{{7}, {100, 101, 102}}}));
  EXPECT_TRUE(rolling_token_windows({}, 7, 4).empty());
}

TEST(RollingWindows, MatchTheIndependentChunkFormulation) {
  for (const auto& c : read_json("lmeval_wikitext.json")["window_rule"]) {
    std::vector<std::pair<Ids, Ids>> expected;
    for (const auto& p : c["pairs"]) expected.emplace_back(p[0].get<Ids>(), p[1].get<Ids>());
    EXPECT_EQ(pairs(rolling_token_windows(iota_ids(c["length"].get<int64_t>()), c["prefix"].get<int64_t>(), c["max_length"].get<int64_t>())), expected)
        << "L=" << c["length"] << " M=" << c["max_length"];
  }
}

TEST(WikitextText, DetokenizerOnHandExamplesAndPythonRe) {
  // preprocess_wikitext.py's own comments: contractions, number separators, punctuation, brackets
  EXPECT_EQ(wikitext_detokenize("Teddy 's Story"), "Teddy's Story");
  EXPECT_EQ(wikitext_detokenize("a 2 @,@ 500 @-@ seat hall , 3 @.@ 5 m"), "a 2,500-seat hall, 3.5 m");
  EXPECT_EQ(wikitext_detokenize("Du Fu ( Wade : Tu Fu ) [ 1 ]"), "Du Fu (Wade: Tu Fu) [1]");
  EXPECT_EQ(wikitext_detokenize(" = = Career = = \n x"), " == Career ==\nx");
  // the `/' [0-9]/` rule writes its pattern text literally
  EXPECT_EQ(wikitext_detokenize("a /' 4/ b"), "a /'[0-9]/ b");
  for (const auto& e : read_json("lmeval_wikitext.json")["detokenizer"])
    EXPECT_EQ(wikitext_detokenize(e[0].get<std::string>()), e[1].get<std::string>()) << e[0];
}

TEST(WikitextText, WordCountIsPythonReSplit) {
  EXPECT_EQ(python_whitespace_split_count(""), 1);        // re.split -> ['']
  EXPECT_EQ(python_whitespace_split_count(" a "), 3);     // ['', 'a', '']
  EXPECT_EQ(python_whitespace_split_count("a \n\t b"), 2);
  for (const auto& e : read_json("lmeval_wikitext.json")["word_count"])
    EXPECT_EQ(python_whitespace_split_count(e[0].get<std::string>()), e[1].get<int64_t>()) << e[0];
}

TEST(WikitextText, PagesSplitAtTopLevelHeadings) {
  const auto e = read_json("lmeval_wikitext.json");
  const auto pages = read_wikitext_pages(fixture(e["source"]));
  ASSERT_EQ(pages.size(), e["pages"].size());
  for (size_t i = 0; i < pages.size(); ++i) {
    const auto& p = e["pages"][i];
    EXPECT_EQ(wikitext_detokenize(pages[i]), p["detokenized"].get<std::string>()) << "page " << i;
    EXPECT_EQ(python_whitespace_split_count(pages[i]), p["words"].get<int64_t>()) << "page " << i;
    EXPECT_EQ(int64_t(pages[i].size()), p["bytes"].get<int64_t>()) << "page " << i;
  }
  // a leading blank page is dropped, a sub-heading does not split, "\r\n" reads as "\n"
  EXPECT_EQ(wikitext_pages(" \n = A = \n x\n = = B = = \n = C = \n"),
            (std::vector<std::string>{" = A = \n x\n = = B = = ", " = C = \n"}));
  EXPECT_EQ(wikitext_pages(" = A = \r\n x\r = C = "), (std::vector<std::string>{" = A = \n x", " = C = "}));
}

TEST(WikitextText, JsonLinesPagesAndTheirErrors) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "lmeval_wikitext";
  std::filesystem::create_directories(dir);
  const auto good = (dir / "pages.jsonl").string();
  std::ofstream(good) << "{\"page\": \" = A = \\n x\"}\n\n{\"page\": \" = B = \"}\n";
  EXPECT_EQ(read_wikitext_pages(good), (std::vector<std::string>{" = A = \n x", " = B = "}));
  const auto bad = (dir / "bad.jsonl").string();
  std::ofstream(bad) << "{\"page\": \"x\"}\n{\"text\": \"y\"}\n";
  try {
    read_wikitext_pages(bad);
    FAIL() << "no error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find(bad + ":2: expected an object with a string field \"page\""), std::string::npos)
        << err.what();
  }
  const auto latin1 = (dir / "latin1.raw").string();
  std::ofstream(latin1) << " = A = \n caf\xE9\n";
  try {
    read_wikitext_pages(latin1);
    FAIL() << "no error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("invalid UTF-8 at byte 12"), std::string::npos) << err.what();
  }
}

// The real test split, when ABQ_EVAL_DATA points at data/eval: 62 pages (the dataset's test
// split), each page's counts and detokenized text equal to Python's.
TEST(WikitextText, TheRealTestSetGivesTheDocumentLevelPages) {
  const char* root = std::getenv("ABQ_EVAL_DATA");
  if (!root) GTEST_SKIP() << "ABQ_EVAL_DATA not set";
  const std::string path = std::string(root) + "/wikitext2/wiki.test.raw";
  const auto e = read_json("lmeval_wikitext.json")["full_test_set"];
  ASSERT_EQ(sha256_file(path), e["file_sha256"].get<std::string>()) << path << " is not the file the fixture was made from";
  const auto pages = read_wikitext_pages(path);
  ASSERT_EQ(pages.size(), 62u);
  for (size_t i = 0; i < pages.size(); ++i) {
    EXPECT_EQ(python_whitespace_split_count(pages[i]), e["words"][i].get<int64_t>()) << "page " << i;
    EXPECT_EQ(int64_t(pages[i].size()), e["bytes"][i].get<int64_t>()) << "page " << i;
    EXPECT_EQ(sha256_hex(wikitext_detokenize(pages[i])), e["detokenized_sha256"][i].get<std::string>()) << "page " << i;
  }
}

// SmolLM2's tokenizer from the GGUF on every real page, when ABQ_EVAL_DATA is set and the model is
// cached: ids equal to Hugging Face `tokenizers` with SmolLM2's own pre-tokenizer
// (tests/fixtures/evaluators/smollm2_wikitext_token_ids.json from
// tools/fixtures/smollm2_wikitext_token_ids.py). The two pages the tokenizer transformers builds
// from the GGUF splits otherwise (43 and 58) are among them.
TEST(WikitextText, SmolLM2TokenizesEveryRealPageAsItsHfTokenizer) {
  const char* root = std::getenv("ABQ_EVAL_DATA");
  if (!root) GTEST_SKIP() << "ABQ_EVAL_DATA not set";
  const char* home = std::getenv("HOME");
  const std::string gguf = std::string(home ? home : "") + "/.cache/abq/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(gguf)) GTEST_SKIP() << gguf << " not present";
  const std::string path = std::string(root) + "/wikitext2/wiki.test.raw";
  const auto e = read_json("smollm2_wikitext_token_ids.json");
  ASSERT_EQ(sha256_file(path), e["file_sha256"].get<std::string>()) << path << " is not the file the fixture was made from";
  const auto tok = tokenize::tokenizer_from_gguf(io::GgufFile::open(gguf));
  const auto pages = read_wikitext_pages(path);
  ASSERT_EQ(pages.size(), e["tokens"].size());
  for (size_t i = 0; i < pages.size(); ++i) {
    const Ids ids = tok->encode(wikitext_detokenize(pages[i]), false);
    std::vector<int32_t> narrow(ids.begin(), ids.end());  // little-endian int32, as the fixture
    EXPECT_EQ(int64_t(ids.size()), e["tokens"][i].get<int64_t>()) << "page " << i;
    EXPECT_EQ(sha256_hex(std::string(reinterpret_cast<const char*>(narrow.data()), narrow.size() * sizeof(int32_t))),
              e["ids_sha256"][i].get<std::string>())
        << "page " << i;
  }
}

TEST(WikitextMetrics, AggregateAsLmEvalToTheLastDigit) {
  // Python's per-document log-likelihoods in, lm-eval's weighted_perplexity / bits_per_byte out
  const auto e = read_json("lmeval_wikitext.json");
  for (const auto& c : e["cases"]) {
    std::vector<RollingDocScore> docs;
    for (size_t i = 0; i < e["pages"].size(); ++i)
      docs.push_back({c["doc_loglikelihood"][i].get<double>(), e["pages"][i]["words"].get<int64_t>(),
                      e["pages"][i]["bytes"].get<int64_t>()});
    const auto m = wikitext_metrics(docs);
    EXPECT_NEAR(m.word_perplexity / c["word_perplexity"].get<double>(), 1.0, 1e-12);
    EXPECT_NEAR(m.byte_perplexity / c["byte_perplexity"].get<double>(), 1.0, 1e-12);
    EXPECT_NEAR(m.bits_per_byte / c["bits_per_byte"].get<double>(), 1.0, 1e-12);
  }
  // hand case: ll -6 over 3 words, 4 bytes: exp(2), exp(1.5), 1.5 / ln 2
  const auto m = wikitext_metrics({{-2.0, 1, 3}, {-4.0, 2, 1}});
  EXPECT_DOUBLE_EQ(m.word_perplexity, std::exp(2.0));
  EXPECT_DOUBLE_EQ(m.byte_perplexity, std::exp(1.5));
  EXPECT_DOUBLE_EQ(m.bits_per_byte, 1.5 / std::log(2.0));
}

class RollingPerplexity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Progress::set_enabled(false); }
  model::LlamaModel model_ = load_tiny("tiny_model.safetensors");  // max_position 4096
  std::unique_ptr<tokenize::Tokenizer> tok_ = tokenize::make_byte_tokenizer();
  nlohmann::json expected_ = read_json("lmeval_wikitext.json");

  RollingPerplexityOptions options(int64_t max_length) const {
    RollingPerplexityOptions o;
    o.data = fixture(expected_["source"]);
    o.max_length = max_length;
    o.batch_size = 5;  // uneven last batch on purpose
    return o;
  }
  RollingPerplexityResult run(const RollingPerplexityOptions& o) const {
    EvalContext ctx{model_, *tok_, "bytes", "fp32"};
    return RollingPerplexityEvaluator(o).run(ctx);
  }
};

TEST_F(RollingPerplexity, MatchesTheFloat64ReferenceOnTheTinyModel) {
  for (const auto& c : expected_["cases"]) {
    const int64_t M = c["max_length"];
    const auto r = run(options(M));
    ASSERT_EQ(r.docs.size(), c["doc_loglikelihood"].size());
    for (size_t d = 0; d < r.docs.size(); ++d) {
      // fp32 forward against float64 numpy: the sums agree to ~1e-7 relative
      EXPECT_NEAR(r.docs[d].loglikelihood / c["doc_loglikelihood"][d].get<double>(), 1.0, 1e-5) << "M=" << M << " doc " << d;
      EXPECT_EQ(r.doc_windows[d], c["doc_windows"][d].get<int64_t>()) << "M=" << M << " doc " << d;
      EXPECT_EQ(r.doc_tokens[d], expected_["pages"][d]["tokens"].get<int64_t>());
    }
    EXPECT_NEAR(r.metrics.bits_per_byte / c["bits_per_byte"].get<double>(), 1.0, 1e-5) << "M=" << M;
    EXPECT_NEAR(std::log(r.metrics.word_perplexity) / std::log(c["word_perplexity"].get<double>()), 1.0, 1e-5);
    EXPECT_NEAR(std::log(r.metrics.byte_perplexity) / std::log(c["byte_perplexity"].get<double>()), 1.0, 1e-5);
    EXPECT_EQ(r.record.at("max_length"), std::to_string(M));
    EXPECT_EQ(r.record.at("prefix_token"), "bos:256");
    EXPECT_EQ(r.record.at("doc_bos"), "none");
  }
}

TEST_F(RollingPerplexity, BatchingDoesNotChangeTheScores) {
  auto one = options(64);
  one.batch_size = 1;
  const auto a = run(one), b = run(options(64));
  for (size_t d = 0; d < a.docs.size(); ++d)
    EXPECT_NEAR(a.docs[d].loglikelihood, b.docs[d].loglikelihood, 1e-6 * std::abs(a.docs[d].loglikelihood));
}

TEST_F(RollingPerplexity, MetricsCarryOneProtocolPerMaxLength) {
  RollingPerplexityEvaluator e(options(64));
  EvalContext ctx{model_, *tok_, "bytes", "fp32"};
  const auto metrics = e.evaluate(ctx);
  ASSERT_EQ(metrics.size(), 3u);
  EXPECT_EQ(metrics[0].metric, "word_perplexity");
  EXPECT_EQ(metrics[1].metric, "byte_perplexity");
  EXPECT_EQ(metrics[2].metric, "bits_per_byte");
  EXPECT_EQ(metrics[0].protocol.rfind("lmeval.wikitext.word.T64@", 0), 0u) << metrics[0].protocol;
  EXPECT_EQ(metrics[2].protocol.rfind("lmeval.wikitext.bpb.T64@", 0), 0u) << metrics[2].protocol;
  EXPECT_EQ(metrics[0].protocol.substr(metrics[0].protocol.find('@')), metrics[1].protocol.substr(metrics[1].protocol.find('@')));
  EXPECT_EQ(metrics[0].dataset, "wikitext");
  EXPECT_EQ(metrics[0].n, 3);
  EXPECT_TRUE(std::isnan(metrics[0].stderr_value));  // lm-eval reports none for these
  const auto tables = e.tables();  // by value
  const auto& table = tables.at("rolling_wikitext");
  EXPECT_EQ(table.i64("words"), (std::vector<int64_t>{335, 217, 383}));
  // another max_length is another protocol
  RollingPerplexityEvaluator other(options(1000));
  EXPECT_NE(other.evaluate(ctx)[0].protocol, metrics[0].protocol);
}

TEST_F(RollingPerplexity, MaxLengthDefaultsToTheModelsContextAndIsCappedByIt) {
  // 0: the model's context length (4096 here, longer than every page: one window per document)
  const auto r = run(options(0));
  EXPECT_EQ(r.max_length, 4096);
  EXPECT_EQ(r.doc_windows, (std::vector<int64_t>{1, 1, 1}));
  try {
    run(options(5000));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_length 5000 exceeds the model's context length 4096"), std::string::npos)
        << e.what();
  }
}

TEST_F(RollingPerplexity, SpecialTokensOptionIsRecordedAsDone) {
  auto o = options(64);
  o.add_special_tokens = true;  // the byte tokenizer's rule adds BOS
  o.limit = 1;
  const auto r = run(o);
  EXPECT_EQ(r.doc_tokens, (std::vector<int64_t>{expected_["pages"][0]["tokens"].get<int64_t>() + 1}));
  EXPECT_EQ(r.record.at("doc_bos"), "tokenizer");
  EXPECT_EQ(r.record.at("dataset.docs"), "1");
}

TEST(RollingPerplexityRegistry, BuildsFromYamlWithDefaults) {
  YAML::Node o = YAML::Load("{task: wikitext, data: wiki.docs.raw, max_length: 0, limit: 0, batch_size: 1, "
                            "add_special_tokens: false}");
  auto resolve = [](const std::string& p) { return fixture("wikitext2/" + p); };
  EXPECT_EQ(make_evaluator("rolling_perplexity", o, resolve)->name(), "rolling_perplexity");
  o["task"] = "pile";
  EXPECT_THROW(make_evaluator("rolling_perplexity", o, resolve), ConfigError);
}

}  // namespace
}  // namespace abq::evaluators

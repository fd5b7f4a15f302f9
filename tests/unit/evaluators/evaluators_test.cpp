// Perplexity protocols, logit metrics, zero-shot request sampling and the evaluator registry.
// Expected values: tests/fixtures/evaluators/expected.json and python_draws.json, written by
// tools/fixtures/evaluators_reference.py (an independent numpy forward of the same weights, GPTQ
// datautils joins and sampler, numpy.percentile) and tools/fixtures/evaluators_draws.py (CPython's
// `random`). Small literal cases are computed by hand in the comments beside them.
#include <gtest/gtest.h>

#include <cmath>

#include "evaluators/logit_metrics.h"
#include "evaluators/perplexity.h"
#include "evaluators/registry.h"
#include "evaluators/zero_shot_tasks.h"
#include "framework/config/loader.h"
#include "framework/config/schema.h"
#include "framework/config/validate.h"
#include "framework/core/error.h"
#include "framework/core/progress.h"
#include "framework/data/token_windows.h"
#include "framework/tokenize/tokenizer.h"
#include "tests/unit/evaluators/tiny_fixture.h"

namespace abq::evaluators {
namespace {

using testing::fixture;
using testing::load_tiny;
using testing::read_json;

class PerplexityProtocols : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Progress::set_enabled(false); }
  model::LlamaModel fp_ = load_tiny("tiny_model.safetensors");
  std::unique_ptr<tokenize::Tokenizer> tok_ = tokenize::make_byte_tokenizer();
  nlohmann::json expected_ = read_json("expected.json")["perplexity"];

  PerplexityResult run(PerplexityOptions o, const model::LlamaModel* ref = nullptr, const model::LlamaModel* m = nullptr) {
    o.seqlen = 64;
    o.batch_size = 7;  // uneven last batch on purpose
    PerplexityEvaluator e(o);
    EvalContext ctx{m ? *m : fp_, *tok_, "bytes", "fp32", ref, "tiny_model.safetensors"};
    return e.run(ctx);
  }
  void expect_matches(const PerplexityResult& r, const nlohmann::json& e) {
    EXPECT_EQ(r.windows, e["windows"].get<int64_t>());
    EXPECT_EQ(r.tokens, e["tokens"].get<int64_t>());
    EXPECT_NEAR(r.mean_nll, e["nll"].get<double>(), 1e-4);
    EXPECT_NEAR(r.ppl / e["ppl"].get<double>(), 1.0, 1e-4);
    ASSERT_EQ(r.window_mean_nll.size(), e["window_nll"].size());
    for (size_t w = 0; w < r.window_mean_nll.size(); ++w)
      EXPECT_NEAR(r.window_mean_nll[w], e["window_nll"][w].get<double>(), 1e-4) << "window " << w;
  }
};

TEST_F(PerplexityProtocols, Wikitext2JoinsRowsWithBlankLines) {
  PerplexityOptions o;
  o.protocol = "wikitext2";
  o.data = fixture("wikitext2/wiki.test.raw");
  auto r = run(o);
  expect_matches(r, expected_["wikitext2"]);
  EXPECT_EQ(r.protocol.rfind("gptq.wikitext2.T64@", 0), 0u) << r.protocol;
}

TEST_F(PerplexityProtocols, StrideScoresTheLastStrideTargets) {
  PerplexityOptions o;
  o.protocol = "wikitext2";
  o.data = fixture("wikitext2/wiki.test.raw");
  o.stride = 32;
  expect_matches(run(o), expected_["wikitext2_stride32"]);
}

TEST_F(PerplexityProtocols, PtbAndPtbNew) {
  PerplexityOptions o;
  o.protocol = "ptb";
  o.data = fixture("ptb/ptb.valid.txt");
  auto a = run(o);
  expect_matches(a, expected_["ptb"]);
  o.protocol = "ptb-new";
  o.data = fixture("ptb/ptb.test.txt");
  auto b = run(o);
  expect_matches(b, expected_["ptb-new"]);
  EXPECT_EQ(b.protocol.rfind("gptq.ptbnew.T64@", 0), 0u) << b.protocol;
}

TEST_F(PerplexityProtocols, C4NewAndTheOldC4SamplerOnAGzipShard) {
  PerplexityOptions o;
  o.protocol = "c4-new";
  o.data = fixture("c4/c4-format-sample.json.gz");
  o.c4_new_docs = 20;
  o.c4_windows = 8;
  expect_matches(run(o), expected_["c4-new"]);

  o.protocol = "c4";
  auto r = run(o);
  expect_matches(r, expected_["c4"]);
  const auto& draws = expected_["c4"]["draws"];
  ASSERT_EQ(r.window_doc.size(), draws.size());
  for (size_t w = 0; w < draws.size(); ++w) {
    EXPECT_EQ(r.window_doc[w], draws[w][0].get<int64_t>());
    EXPECT_EQ(r.window_offset[w], draws[w][1].get<int64_t>());
  }
}

TEST_F(PerplexityProtocols, LogitMetricsAgainstTheReferenceModel) {
  auto q = load_tiny("tiny_model_q.safetensors");
  PerplexityOptions o;
  o.protocol = "wikitext2";
  o.data = fixture("wikitext2/wiki.test.raw");
  auto r = run(o, &fp_, &q);
  const auto& e = expected_["wikitext2_kl"];
  expect_matches(r, e);
  ASSERT_TRUE(r.has_logit_metrics);
  EXPECT_NEAR(r.kl_mean, e["kl_mean"].get<double>(), 1e-4);
  EXPECT_NEAR(r.kl_p50, e["kl_p50"].get<double>(), 1e-4);
  EXPECT_NEAR(r.kl_p90, e["kl_p90"].get<double>(), 1e-4);
  EXPECT_NEAR(r.kl_p99, e["kl_p99"].get<double>(), 1e-4);
  EXPECT_NEAR(r.kl_max, e["kl_max"].get<double>(), 1e-4);
  EXPECT_NEAR(r.top1_agreement, e["top1"].get<double>(), 1e-12);
  EXPECT_NEAR(r.delta_nll, e["delta_nll"].get<double>(), 1e-4);
  // dNLL is log(PPL_q / PPL_fp) (evaluation-protocols.md §7)
  EXPECT_NEAR(r.delta_nll, r.mean_nll - expected_["wikitext2"]["nll"].get<double>(), 1e-4);

  // Against itself: KL 0, full agreement.
  auto same = run(o, &fp_);
  EXPECT_NEAR(same.kl_max, 0.0, 1e-6);
  EXPECT_DOUBLE_EQ(same.top1_agreement, 1.0);
  EXPECT_NEAR(same.delta_p_rms, 0.0, 1e-7);
}

TEST_F(PerplexityProtocols, EvaluateReturnsMetricsWithIdsAndAPerWindowTable) {
  PerplexityOptions o;
  o.protocol = "ptb";
  o.data = fixture("ptb/ptb.valid.txt");
  o.seqlen = 64;
  o.max_windows = 3;
  PerplexityEvaluator e(o);
  auto q = load_tiny("tiny_model_q.safetensors");
  EvalContext plain{fp_, *tok_, "bytes", "fp32"};
  auto m = e.evaluate(plain);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].metric, "ppl");
  EXPECT_EQ(m[0].dataset, "ptb");
  EXPECT_EQ(m[0].n, 3);
  auto tables = e.tables();
  ASSERT_EQ(tables.count("ppl_ptb"), 1u);
  EXPECT_EQ(tables.at("ppl_ptb").rows(), 3u);
  EXPECT_NEAR(tables.at("ppl_ptb").f64("nll_mean")[0], expected_["ptb"]["window_nll"][0].get<double>(), 1e-4);

  EvalContext with_ref{q, *tok_, "bytes", "w3", &fp_, "fp"};
  auto mk = e.evaluate(with_ref);
  EXPECT_EQ(mk.size(), 11u);
  EXPECT_NE(mk[0].protocol, m[0].protocol);  // quant_state is in the record
  bool saw_kl = false;
  for (const auto& x : mk)
    if (x.metric == "kl_mean") {
      saw_kl = true;
      EXPECT_EQ(x.protocol.rfind("kl.gptq.ptb.T64@", 0), 0u) << x.protocol;
    }
  EXPECT_TRUE(saw_kl);
  EXPECT_TRUE(e.tables().at("ppl_ptb").find("kl_mean") != nullptr);
}

TEST_F(PerplexityProtocols, PerWindowBosOverwritesTheFirstToken) {
  PerplexityOptions o;
  o.protocol = "wikitext2";
  o.data = fixture("wikitext2/wiki.test.raw");
  o.bos = "per_window";
  o.max_windows = 2;
  auto a = run(o);
  o.bos = "stream_start";
  auto b = run(o);
  // Window 0 starts with BOS either way; window 1 differs only in its first token.
  EXPECT_NEAR(a.window_mean_nll[0], b.window_mean_nll[0], 1e-9);
  EXPECT_NE(a.window_mean_nll[1], b.window_mean_nll[1]);
  EXPECT_NE(a.protocol, b.protocol);
}

// Second-half scoring (Brevitas's entry point, llama-perplexity): every window, the first one
// included, scores only targets T/2..T-1. Reference: the same windows rebuilt here from the byte
// tokenizer (BOS, then the file's bytes, cut every T) and scored with plain fp64 loops over the
// model's logits.
TEST_F(PerplexityProtocols, ScoreFromScoresTheSecondHalfOfEveryWindow) {
  PerplexityOptions o;
  o.protocol = "text";
  o.data = fixture("wikitext2/wiki.test.raw");
  o.max_windows = 3;
  o.score_from = 32;
  const auto r = run(o);  // T = 64
  ASSERT_EQ(r.windows, 3);
  EXPECT_EQ(r.tokens, 3 * 32);

  auto stream = tok_->encode(data::read_text_file(o.data), true);
  torch::NoGradGuard no_grad;
  double total = 0;
  for (int64_t w = 0; w < 3; ++w) {
    std::vector<int64_t> window(stream.begin() + w * 64, stream.begin() + (w + 1) * 64);
    auto ids = torch::tensor(window, torch::kInt64).unsqueeze(0);
    auto logits = fp_.lm_head(fp_.final_hidden(ids)).squeeze(0).to(torch::kFloat64);
    double window_nll = 0;
    for (int64_t p = 31; p < 63; ++p) {  // position p predicts target p + 1
      const double* row = logits[p].data_ptr<double>();
      double m = row[0], sum = 0;
      for (int64_t v = 1; v < logits.size(1); ++v) m = std::max(m, row[v]);
      for (int64_t v = 0; v < logits.size(1); ++v) sum += std::exp(row[v] - m);
      window_nll += m + std::log(sum) - row[window[size_t(p + 1)]];
    }
    EXPECT_NEAR(r.window_mean_nll[size_t(w)], window_nll / 32, 1e-6) << "window " << w;
    total += window_nll;
  }
  EXPECT_NEAR(r.mean_nll, total / 96, 1e-6);
  o.score_from = 0;
  EXPECT_NE(run(o).protocol, r.protocol);
}

// llama-perplexity's loop (perplexity.cpp of llama.cpp, re-implemented here with plain fp64 loops):
// the file tokenized whole with BOS, cut into n_ctx chunks, BOS written into each chunk's first
// position, targets n_ctx/2+1..n_ctx-1 scored; PPL = exp(mean) and its "+/-" =
// PPL·sqrt((mean(nll²) − mean(nll)²)/(count − 1)).
TEST_F(PerplexityProtocols, LlamaCppScoresTheSecondHalfOfEachChunkAfterBos) {
  PerplexityOptions o;
  o.protocol = "llamacpp";
  o.data = fixture("wikitext2/wiki.test.raw");
  o.max_windows = 3;
  const auto r = run(o);  // n_ctx = 64
  ASSERT_EQ(r.windows, 3);
  EXPECT_EQ(r.tokens, 3 * 31);
  EXPECT_EQ(r.protocol.rfind("llamacpp.text-wiki.test.T64@", 0), 0u) << r.protocol;

  auto stream = tok_->encode(data::read_text_file(o.data), true);
  torch::NoGradGuard no_grad;
  double nll = 0, nll2 = 0;
  for (int64_t w = 0; w < 3; ++w) {
    std::vector<int64_t> chunk(stream.begin() + w * 64, stream.begin() + (w + 1) * 64);
    chunk[0] = tok_->bos_id();
    auto ids = torch::tensor(chunk, torch::kInt64).unsqueeze(0);
    auto logits = fp_.lm_head(fp_.final_hidden(ids)).squeeze(0).to(torch::kFloat64);
    for (int64_t p = 32; p < 63; ++p) {
      const double* row = logits[p].data_ptr<double>();
      double m = row[0], sum = 0;
      for (int64_t v = 1; v < logits.size(1); ++v) m = std::max(m, row[v]);
      for (int64_t v = 0; v < logits.size(1); ++v) sum += std::exp(row[v] - m);
      const double v = m + std::log(sum) - row[chunk[size_t(p + 1)]];
      nll += v;
      nll2 += v * v;
    }
  }
  const double count = 93, mean = nll / count, ppl = std::exp(mean);
  EXPECT_NEAR(r.ppl, ppl, 1e-6 * ppl);
  EXPECT_NEAR(r.ppl_stderr, ppl * std::sqrt((nll2 / count - mean * mean) / (count - 1)), 1e-6 * ppl);
}

TEST(PerplexityOptionsCheck, RejectsBadCombinations) {
  PerplexityOptions o;
  o.protocol = "c5";
  EXPECT_THROW(PerplexityEvaluator{o}, ConfigError);
  o.protocol = "c4";
  o.seqlen = 64;
  o.stride = 32;
  EXPECT_THROW(PerplexityEvaluator{o}, ConfigError);
  o.stride = 0;
  o.bos = "stream_start";
  EXPECT_THROW(PerplexityEvaluator{o}, ConfigError);
  o.protocol = "wikitext2";
  o.bos = "per_doc";
  EXPECT_THROW(PerplexityEvaluator{o}, ConfigError);
  o.bos = "auto";
  o.stride = 65;
  EXPECT_THROW(PerplexityEvaluator{o}, ConfigError);
  o.stride = 0;
  o.score_from = 64;  // must leave at least one target
  EXPECT_THROW(PerplexityEvaluator{o}, ConfigError);
}

TEST(PythonSample, ReproducesCPythonRandomSample) {
  for (const auto& s : read_json("python_draws.json")["sample"])
    EXPECT_EQ(python_sample(s["n"], s["k"], s["seed"]), s["indices"].get<std::vector<int64_t>>())
        << "seed " << s["seed"] << " n " << s["n"] << " k " << s["k"];
}

TEST(LogitMetricsUnit, HandComputedTwoTokenVocabulary) {
  // P = softmax([0, 0]) = (1/2, 1/2); Q = softmax([0, ln 3]) = (1/4, 3/4).
  // KL = 1/2 ln(2) + 1/2 ln(2/3) = 0.1438410362; argmax P = 0 (tie -> lowest), argmax Q = 1.
  // target 0: dNLL = ln 4 - ln 2 = ln 2, dp = 1/4 - 1/2 = -1/4.
  LogitMetrics m;
  auto q = torch::tensor({0.0, std::log(3.0)}, torch::kFloat32).reshape({1, 2});
  auto p = torch::zeros({1, 2});
  m.add(q, p, torch::tensor({int64_t(0)}));
  EXPECT_NEAR(m.kl_mean(), 0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0), 1e-6);
  EXPECT_DOUBLE_EQ(m.top1_agreement(), 0.0);
  EXPECT_NEAR(m.delta_nll_mean(), std::log(2.0), 1e-6);
  EXPECT_NEAR(m.delta_p_mean(), -0.25, 1e-6);
  // identical rows: KL 0 at every percentile (interpolation is checked against numpy in
  // LogitMetricsAgainstTheReferenceModel)
  LogitMetrics n;
  auto logits = torch::zeros({4, 2});
  n.add(logits, logits, torch::zeros({4}, torch::kInt64));
  EXPECT_NEAR(n.kl_percentile(90), 0.0, 1e-9);
}

TEST(Registry, ListsEveryEvaluatorAndBuildsThemFromYaml) {
  EXPECT_EQ(evaluator_names(), (std::vector<std::string>{"perplexity", "rolling_perplexity", "zero_shot"}));
  auto schema = evaluator_schema();
  ASSERT_NE(schema.field("zero_shot"), nullptr);
  YAML::Node o = YAML::Load(
      "{task: winogrande, data: dev.jsonl, labels: '', limit: 2, sample_seed: -1, batch_size: 4, max_length: 2048, add_bos: false}");
  auto resolve = [](const std::string& p) { return fixture("winogrande/" + p); };
  auto e = make_evaluator("zero_shot", o, resolve);
  EXPECT_EQ(e->name(), "zero_shot");
  EXPECT_THROW(make_evaluator("zero_shoot", o, resolve), ConfigError);
  o["task"] = "winogrand";
  EXPECT_THROW(make_evaluator("zero_shot", o, resolve), ConfigError);
}

TEST(Registry, SchemaFillsDefaultsAndRejectsUnknownValues) {
  auto schema = config::Schema::object({{"eval", config::Schema::list(evaluator_schema())}});
  auto doc = config::parse_config(
      "eval:\n"
      "  - {type: perplexity, protocol: wikitext2, data: wiki.test.raw}\n"
      "  - {type: zero_shot, task: hellaswag, data: hellaswag_val_full.txt}\n",
      "eval.yaml");
  YAML::Node resolved = config::validate(doc, schema)["eval"];
  EXPECT_EQ(resolved[0]["seqlen"].as<int64_t>(), 2048);
  EXPECT_EQ(resolved[0]["bos"].as<std::string>(), "auto");
  EXPECT_EQ(resolved[0]["c4_windows"].as<int64_t>(), 256);
  EXPECT_EQ(resolved[1]["batch_size"].as<int64_t>(), 16);
  EXPECT_FALSE(resolved[1]["add_bos"].as<bool>());
  auto p = make_evaluator("perplexity", resolved[0], [](const std::string& s) { return s; });
  EXPECT_EQ(p->name(), "perplexity");
  auto bad = config::parse_config("eval: [{type: perplexity, protocol: c4new, data: x}]\n", "eval.yaml");
  EXPECT_THROW(config::validate(bad, schema), ConfigError);
}

}  // namespace
}  // namespace abq::evaluators

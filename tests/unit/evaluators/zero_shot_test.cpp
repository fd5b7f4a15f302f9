// Zero-shot scoring: request formation, batched log-likelihoods and lm-eval metrics per task.
// Expected values: tests/fixtures/evaluators/expected.json, written by
// tools/fixtures/evaluators_reference.py (its own numpy LLaMA forward of the same weights, its own
// byte tokenizer and lm-eval 0.4 doc_to_text / doc_to_choice / _encode_pair / metrics). Small
// literal cases are worked out by hand in the comments beside them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "evaluators/loglikelihood.h"
#include "evaluators/zero_shot.h"
#include "evaluators/zero_shot_tasks.h"
#include "framework/core/error.h"
#include "framework/core/progress.h"
#include "framework/quant/fake_quant.h"
#include "framework/tokenize/tokenizer.h"
#include "tests/unit/evaluators/tiny_fixture.h"

namespace abq::evaluators {
namespace {

using testing::fixture;
using testing::load_tiny;
using testing::read_json;

struct TaskCase {
  const char* task;
  const char* file;
};

const TaskCase kTasks[] = {
    {"piqa", "piqa/valid.jsonl"},
    {"arc_easy", "arc/ARC-Easy-Test.jsonl"},
    {"arc_challenge", "arc/ARC-Challenge-Test.jsonl"},
    {"boolq", "boolq/superglue-BoolQ-val.jsonl"},
    {"hellaswag", "hellaswag/hellaswag_val_full.txt"},
    {"winogrande", "winogrande/dev.jsonl"},
    {"lambada_openai", "lambada/lambada_test.jsonl"},
};

class ZeroShot : public ::testing::TestWithParam<TaskCase> {
 protected:
  static void SetUpTestSuite() { Progress::set_enabled(false); }
  model::LlamaModel model_ = load_tiny("tiny_model.safetensors");
  std::unique_ptr<tokenize::Tokenizer> tok_ = tokenize::make_byte_tokenizer();
};

TEST_P(ZeroShot, MatchesTheIndependentReference) {
  const auto& tc = GetParam();
  const auto e = read_json("expected.json")["zero_shot"][tc.task];
  for (int64_t batch : {1, 5})  // 5: mixed lengths in one right-padded batch
  for (bool reuse : {true, false}) {  // context once per question (shared_context.h), or per choice
    ZeroShotOptions o;
    o.task = tc.task;
    o.data = fixture(tc.file);
    o.batch_size = batch;
    o.max_length = e["max_length"];
    ZeroShotEvaluator ev(o);
    EvalContext ctx{model_, *tok_, "bytes", "fp32"};
    ctx.prefix_reuse = reuse;
    auto metrics = ev.evaluate(ctx);
    const auto tables = ev.tables();
    const auto& table = tables.at(std::string("zs_") + tc.task);
    const auto& rows = e["rows"];
    ASSERT_EQ(table.rows(), rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      const double want = rows[r][0].get<double>();
      EXPECT_NEAR(table.f64("loglik")[r], want, 1e-4 * std::max(1.0, std::abs(want))) << tc.task << " row " << r;
      EXPECT_EQ(table.i32("greedy")[r], rows[r][1].get<int>()) << r;
      EXPECT_EQ(table.i64("tokens")[r], rows[r][2].get<int64_t>()) << r;
      EXPECT_EQ(table.i64("chars")[r], rows[r][3].get<int64_t>()) << r;
    }
    auto find = [&](const std::string& name) -> const Metric* {
      for (const auto& m : metrics)
        if (m.metric == name) return &m;
      return nullptr;
    };
    const Metric* acc = find("acc");
    ASSERT_NE(acc, nullptr);
    EXPECT_NEAR(acc->value, e["acc"].get<double>(), 1e-12);
    EXPECT_NEAR(acc->stderr_value, e["acc_stderr"].get<double>(), 1e-12);
    EXPECT_EQ(acc->dataset, tc.task);
    EXPECT_EQ(acc->protocol.rfind(std::string("zs.") + tc.task + ".", 0), 0u) << acc->protocol;
    if (e.contains("acc_norm")) {
      const Metric* an = find("acc_norm");
      ASSERT_NE(an, nullptr);
      EXPECT_NEAR(an->value, e["acc_norm"].get<double>(), 1e-12);
      EXPECT_NEAR(an->stderr_value, e["acc_norm_stderr"].get<double>(), 1e-12);
      EXPECT_NE(an->protocol.find(".acc_norm_char.0shot@"), std::string::npos);
    } else {
      EXPECT_EQ(find("acc_norm"), nullptr);
    }
    if (e.contains("ppl")) {
      const Metric* ppl = find("ppl");
      ASSERT_NE(ppl, nullptr);
      EXPECT_NEAR(std::log(ppl->value), std::log(e["ppl"].get<double>()), 1e-4);
    }
  }
}

// Per-request log-likelihoods of one task, with the context run once per question or per choice.
// max_length 2048 keeps every fixture input untruncated, so multiple-choice questions reuse.
std::vector<double> logliks(const model::LlamaModel& m, const tokenize::Tokenizer& tok, const TaskCase& tc, bool reuse) {
  ZeroShotOptions o;
  o.task = tc.task;
  o.data = fixture(tc.file);
  o.batch_size = 5;
  EvalContext ctx{m, tok, "bytes", "fp32"};
  ctx.prefix_reuse = reuse;
  return ZeroShotEvaluator(o).score(ctx).table.f64("loglik");
}

void hook_activations(model::LlamaModel& m, const quant::QuantSpec& spec) {
  for (int64_t layer = 0; layer < m.config().num_layers; ++layer)
    for (model::SiteKind kind : model::all_site_kinds())
      if (model::is_activation(kind))
        m.set_activation_hook(layer, kind, [spec](const torch::Tensor& x) { return quant::fake_quant(x, spec).fake; });
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// The reference is the full-sequence path (itself checked against expected.json above): reuse must
// give the same numbers on the GQA fixture model, an MHA model and with per-token 4-bit activation
// quantization at every activation site (token-local, so reuse stays exact).
TEST_P(ZeroShot, ContextReuseEqualsFullScoring) {
  const auto& tc = GetParam();
  model::LlamaConfig mha = model_.config();
  mha.num_kv_heads = mha.num_heads;
  auto per_token = load_tiny("tiny_model.safetensors");
  quant::QuantSpec a4;
  a4.bits = 4;
  a4.granularity = quant::Granularity::per_token;
  hook_activations(per_token, a4);
  const std::pair<const char*, const model::LlamaModel*> models[] = {{"gqa", &model_}, {"per-token a4", &per_token}};
  auto random_mha = model::make_random_model(mha, 5);
  for (const auto& [name, m] : models)
    EXPECT_LT(max_abs_diff(logliks(*m, *tok_, tc, true), logliks(*m, *tok_, tc, false)), 1e-4) << name;
  EXPECT_LT(max_abs_diff(logliks(random_mha, *tok_, tc, true), logliks(random_mha, *tok_, tc, false)), 1e-4) << "mha";
}

// Per-tensor dynamic ranges mix tokens, so reuse would change the numbers: this shows which path ran.
// Multiple-choice tasks reuse (their numbers move); LAMBADA (one request per document) takes the
// full path (identical numbers). WinoGrande has one context per choice, but its fixture documents 0
// and 1 differ only after the blank, so "...so Sarah" (and "...so Maria") is one shared context.
TEST_P(ZeroShot, ReuseRunsOnlyForSharedContexts) {
  const auto& tc = GetParam();
  auto m = load_tiny("tiny_model.safetensors");
  quant::QuantSpec a3;
  a3.bits = 3;
  a3.granularity = quant::Granularity::per_tensor;
  hook_activations(m, a3);
  const double diff = max_abs_diff(logliks(m, *tok_, tc, true), logliks(m, *tok_, tc, false));
  const std::string task = tc.task;
  if (task == "lambada_openai") {
    EXPECT_EQ(diff, 0.0);
  } else {
    EXPECT_GT(diff, 1e-3);
  }
}

INSTANTIATE_TEST_SUITE_P(Tasks, ZeroShot, ::testing::ValuesIn(kTasks),
                         [](const auto& info) { return std::string(info.param.task); });

TEST(ZeroShotRequests, EncodePairMovesTrailingSpacesAndHandlesEmptyContext) {
  auto tok = tokenize::make_byte_tokenizer();
  // "Answer: " + "yes": context "Answer:" (7 bytes), continuation " yes" (4 bytes)
  auto r = encode_request(*tok, "Answer: ", "yes", false);
  EXPECT_EQ(r.context.size(), 7u);
  EXPECT_EQ(r.continuation, (std::vector<int64_t>{' ', 'y', 'e', 's'}));
  // Empty context: [BOS] then the continuation alone.
  auto e = encode_request(*tok, "", "ab", false);
  EXPECT_EQ(e.context, (std::vector<int64_t>{256}));
  EXPECT_EQ(e.continuation, (std::vector<int64_t>{'a', 'b'}));
  // add_bos puts BOS before the context only (it is a prefix of both encodings).
  auto b = encode_request(*tok, "x", " y", true);
  EXPECT_EQ(b.context, (std::vector<int64_t>{256, 'x'}));
  EXPECT_EQ(b.continuation, (std::vector<int64_t>{' ', 'y'}));
}

TEST(ZeroShotRequests, TruncationKeepsTheLastMaxLengthTokens) {
  Progress::set_enabled(false);
  auto model = load_tiny("tiny_model.safetensors");
  // 10 context + 2 continuation tokens, max_length 6: input = (all 12)[-7:][:-1] = ids 6..11,
  // the same input as the request whose context is the last 5 context tokens.
  TokenRequest full{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {11, 12}};
  TokenRequest tail{{6, 7, 8, 9, 10}, {11, 12}};
  auto a = score_requests(model, {full}, 1, 6);
  auto b = score_requests(model, {tail}, 1, 2048);
  EXPECT_NEAR(a[0].logprob, b[0].logprob, 1e-5);
  EXPECT_EQ(a[0].tokens, 2);
}

TEST(ZeroShotTasks, HellaswagPreprocess) {
  // lm-eval utils.preprocess, by hand
  EXPECT_EQ(hellaswag_preprocess("  Fix a sink [title] Turn the water off. [step] Then wait  "),
            "Fix a sink. Turn the water off. Then wait");  // ". " + " Turn", then "  " -> " "
  EXPECT_EQ(hellaswag_preprocess("a  b [header] c"), "a b c");
}

TEST(ZeroShotTasks, FormsRequestsAsLmEval) {
  auto wino = load_task("winogrande", fixture("winogrande/dev.jsonl"));
  ASSERT_EQ(wino.size(), 4u);
  // "Sarah was a much better surgeon than Maria so _ always got the easier cases."
  EXPECT_EQ(wino[0].contexts[0], "Sarah was a much better surgeon than Maria so Sarah");
  EXPECT_EQ(wino[0].contexts[1], "Sarah was a much better surgeon than Maria so Maria");
  EXPECT_EQ(wino[0].continuations[0], " always got the easier cases.");
  EXPECT_EQ(wino[0].gold, 1);
  auto boolq = load_task("boolq", fixture("boolq/superglue-BoolQ-val.jsonl"));
  EXPECT_EQ(boolq[0].continuations, (std::vector<std::string>{" no", " yes"}));
  EXPECT_NE(boolq[0].contexts[0].find("\nQuestion: does ethanol take more energy make that produces?\nAnswer:"),
            std::string::npos);
  auto lambada = load_task("lambada_openai", fixture("lambada/lambada_test.jsonl"));
  EXPECT_EQ(lambada[0].continuations[0], " signs");
  EXPECT_EQ(lambada[0].contexts[0].substr(lambada[0].contexts[0].size() - 18), "I don't care about");
  auto piqa = load_task("piqa", fixture("piqa/valid.jsonl"));
  EXPECT_EQ(piqa[0].contexts[0], "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
  EXPECT_EQ(piqa[1].choices[0], "replace drawer with bobby pin ");  // trailing space kept, as lm-eval does
}

TEST(ZeroShotTasks, ErrorsNameTheFile) {
  try {
    load_task("hellaswag", fixture("piqa/valid-labels.lst"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("valid-labels.lst"), std::string::npos) << e.what();
  }
  EXPECT_THROW(task_info("piqa2"), ConfigError);
}

TEST(ZeroShotSubset, LimitAndSeededSample) {
  Progress::set_enabled(false);
  auto model = load_tiny("tiny_model.safetensors");
  auto tok = tokenize::make_byte_tokenizer();
  EvalContext ctx{model, *tok, "bytes", "fp32"};
  ZeroShotOptions o;
  o.task = "winogrande";
  o.data = fixture("winogrande/dev.jsonl");
  o.limit = 2;
  auto first = ZeroShotEvaluator(o).score(ctx);
  EXPECT_EQ(first.docs, (std::vector<int64_t>{0, 1}));
  o.sample_seed = 0;
  auto sampled = ZeroShotEvaluator(o).score(ctx);
  auto want = python_sample(4, 2, 0);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(sampled.docs, want);
  EXPECT_EQ(sampled.n, 2);
  o.limit = 0;
  EXPECT_THROW(ZeroShotEvaluator{o}, ConfigError);
}

}  // namespace
}  // namespace abq::evaluators

namespace abq::evaluators {
namespace {

// The full dev sets, when ABQ_EVAL_DATA points at them (data/eval of the shared data folder):
// every record parses and the counts are the published split sizes (evaluation-protocols.md §5.2,
// data/eval/README.md). Skipped when the variable is unset.
TEST(ZeroShotRealData, EveryRecordOfTheDevSetsLoads) {
  const char* root = std::getenv("ABQ_EVAL_DATA");
  if (!root) GTEST_SKIP() << "ABQ_EVAL_DATA not set";
  std::string r = root;
  EXPECT_EQ(load_task("piqa", r + "/piqa/valid.jsonl").size(), 1838u);
  EXPECT_EQ(load_task("arc_easy", r + "/arc/ARC-Easy-Test.jsonl").size(), 2376u);
  EXPECT_EQ(load_task("arc_challenge", r + "/arc/ARC-Challenge-Test.jsonl").size(), 1172u);
  EXPECT_EQ(load_task("boolq", r + "/boolq/superglue-BoolQ-val.jsonl").size(), 3270u);
  EXPECT_EQ(load_task("hellaswag", r + "/hellaswag/hellaswag_val_full.txt").size(), 10042u);
  EXPECT_EQ(load_task("winogrande", r + "/winogrande/dev.jsonl").size(), 1267u);
  EXPECT_EQ(load_task("lambada_openai", r + "/lambada/lambada_test.jsonl").size(), 5153u);
}

}  // namespace
}  // namespace abq::evaluators

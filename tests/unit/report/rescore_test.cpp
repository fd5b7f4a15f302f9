// Rescoring from a hand-made per-choice table (two documents, columns as evaluators/zero_shot.h
// stores them). By hand: doc 0 ll = (-4, -6), chars (2, 10), gold 1: acc picks 0 (wrong),
// acc_norm by chars -2 vs -0.6 picks 1 (right); tokens (1, 2): -4 vs -3 picks 1; bytes (2, 12):
// -2 vs -0.5 picks 1. Doc 1 ll = (-1, -3), chars (4, 4), tokens (1, 1), bytes (4, 4), gold 0: every rule
// picks 0 (right). acc = 0.5, acc_norm = 1; stderr (lm-eval: sample std / sqrt(n)) of {0, 1} =
// sqrt(0.5) / sqrt(2) = 0.5, of {1, 1} = 0.
#include <gtest/gtest.h>

#include "experiments/report/rescore.h"

using namespace abq::report;

namespace {

abq::store::Table table() {
  abq::store::Table t;
  t.add_i64("doc", {0, 0, 1, 1}).add_i64("choice", {0, 1, 0, 1}).add_i64("gold", {1, 1, 0, 0})
      .add_f64("loglik", {-4, -6, -1, -3}).add_i32("greedy", {0, 0, 0, 0}).add_i64("tokens", {1, 2, 1, 1})
      .add_i64("chars", {2, 10, 4, 4}).add_i64("bytes", {2, 12, 4, 4});
  return t;
}

}  // namespace

TEST(Rescore, ByHand) {
  const ChoiceScores s = score_choice_table(table());
  EXPECT_EQ(s.n, 2);
  EXPECT_TRUE(s.multiple_choice);
  EXPECT_DOUBLE_EQ(s.acc, 0.5);
  EXPECT_DOUBLE_EQ(s.acc_stderr, 0.5);
  EXPECT_DOUBLE_EQ(s.acc_norm, 1.0);
  EXPECT_DOUBLE_EQ(s.acc_norm_stderr, 0.0);
  EXPECT_DOUBLE_EQ(s.acc_norm_token, 1.0);
  EXPECT_DOUBLE_EQ(s.acc_norm_byte, 1.0);
}

TEST(Rescore, ReplacesStoredNumbersAndAddsNormalizations) {
  RunView run;
  run.file = "r.h5";
  run.record.run_id = "abc";
  run.record.tables["eval0_zs_piqa"] = table();
  run.record.metrics = {{"acc", "piqa", "zs.piqa.acc.0shot@11", 0.25, 0.1, 2},
                        {"acc_norm", "piqa", "zs.piqa.acc_norm_char.0shot@22", 1.0, 0.0, 2},
                        {"ppl", "wikitext2", "gptq.wikitext2.T2048@33", 5.0, NAN, 10}};
  std::vector<RunView> runs = {run};
  const auto lines = rescore_runs(runs);
  const auto& m = runs[0].record.metrics;
  ASSERT_EQ(m.size(), 5u);
  EXPECT_DOUBLE_EQ(m[0].value, 0.5);  // stored 0.25 was not what the table gives
  EXPECT_EQ(lines[0], "r.h5#abc piqa acc: stored 0.25, rescored 0.5");
  EXPECT_DOUBLE_EQ(m[2].value, 5.0);  // perplexity untouched
  EXPECT_EQ(m[3].metric, "acc_norm_token");
  EXPECT_EQ(m[3].protocol, "zs.piqa.acc_norm_token.0shot@rescored-from-zs.piqa.acc_norm_char.0shot@22");
  EXPECT_EQ(m[4].metric, "acc_norm_byte");
}

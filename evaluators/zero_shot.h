// Zero-shot scoring of lm-evaluation-harness tasks (evaluation-protocols.md §5), natively:
// every (context, continuation) request is scored by loglikelihood.h (the context run once per
// question with shared_context.h when EvalContext::prefix_reuse), then
//   acc      = 1[argmax_c ll(c) == gold]                (ties: first maximal index)
//   acc_norm = 1[argmax_c ll(c) / chars(c) == gold]      chars = Python len() of the choice
//   lambada  acc = greedy match of all target tokens, ppl = exp(-mean ll)
// with lm-eval's stderr (sample std (n-1) / sqrt(n)). Per-request log-likelihoods, token, char
// and byte lengths are returned as the table "zs_<task>" so any metric can be recomputed.
// Protocol id: zs.<task>.<metric>.0shot@<hash of the scorer record (§8.2)>.
#pragma once

#include <string>

#include "framework/config/options.h"
#include "evaluators/evaluator.h"

namespace abq::evaluators {

struct ZeroShotOptions {
  std::string task;          // piqa | arc_easy | arc_challenge | boolq | hellaswag | winogrande | lambada_openai
  std::string data;          // the task's file
  std::string labels;        // piqa labels file; empty: <data stem>-labels.lst
  int64_t limit = 0;         // 0: every document; else the first `limit` (lm-eval --limit) ...
  int64_t sample_seed = -1;  // ... or, when >= 0, random.sample(range(n), limit) after random.seed(sample_seed)
  int64_t batch_size = 16;   // requests per forward
  int64_t max_length = 2048; // lm-eval max_length: inputs keep their last max_length tokens
  bool add_bos = false;      // lm-eval add_bos_token (False for LLaMA in lm-eval 0.4)
};
/// The one declaration of the zero_shot evaluator's keys (defaults are the struct's).
const config::OptionSet<ZeroShotOptions>& zero_shot_options();

struct ZeroShotScores {
  int64_t n = 0;
  double acc = NAN, acc_stderr = NAN, acc_norm = NAN, acc_norm_stderr = NAN, ppl = NAN;
  std::vector<int64_t> docs;  // documents scored (file indices)
  store::Table table;
};

class ZeroShotEvaluator final : public Evaluator {
 public:
  explicit ZeroShotEvaluator(ZeroShotOptions options);
  std::string name() const override { return "zero_shot"; }
  std::vector<Metric> evaluate(const EvalContext& context) override;
  std::map<std::string, store::Table> tables() const override { return tables_; }
  ZeroShotScores score(const EvalContext& context) const;

 private:
  ZeroShotOptions options_;
  std::map<std::string, store::Table> tables_;
  mutable std::string requests_sha256_;
};

}  // namespace abq::evaluators

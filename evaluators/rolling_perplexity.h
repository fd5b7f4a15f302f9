// lm-evaluation-harness's `wikitext` task (output_type loglikelihood_rolling, lm-eval 0.4 HFLM),
// natively: each document (lm_eval_wikitext.h: the EleutherAI/wikitext_document_level pages of
// wiki.test.raw, detokenized) is encoded whole and scored by rolling windows of max_length
// tokens (rolling_windows.h: prefix token BOS, else EOS; context_len 1), every token once; its
// log-likelihood is the sum over its windows. Aggregates (lm_eval/api/metrics.py):
//   word_perplexity = exp(-Σ ll / Σ words)   byte_perplexity = exp(-Σ ll / Σ bytes)
//   bits_per_byte   = -Σ ll / Σ bytes / ln 2
// with words and bytes counted on the page before detokenization. lm-eval reports no stderr
// for them. max_length defaults as lm-eval's HFLM resolves it: the model's context length
// (config max_position_embeddings / GGUF context_length), 2048 when unknown.
// Protocol ids: lmeval.wikitext.{word,byte,bpb}.T<max_length>@<hash of one record>.
#pragma once

#include <string>

#include "framework/config/options.h"
#include "evaluators/evaluator.h"

namespace abq::evaluators {

struct RollingPerplexityOptions {
  std::string task = "wikitext";   // the only rolling task so far
  std::string data;                // wiki.test.raw, or JSON lines with "page" (lm_eval_wikitext.h)
  std::string dataset;             // label in tables; default: the task
  int64_t max_length = 0;          // M; 0: the model's context length (lm-eval HFLM.max_length)
  int64_t limit = 0;               // 0: every document; else the first `limit` (lm-eval --limit)
  int64_t batch_size = 1;          // windows per forward
  /// false: documents encoded without special tokens (lm-eval <= 0.4.9.1, add_special_tokens=False);
  /// true: with the tokenizer's own rule (lm-eval >= 0.4.10 with add_bos_token unset: BOS for
  /// Llama tokenizers, nothing for SmolLM2 / GPT-2 style ones).
  bool add_special_tokens = false;
};
/// The one declaration of the rolling_perplexity evaluator's keys (defaults are the struct's).
const config::OptionSet<RollingPerplexityOptions>& rolling_perplexity_options();

/// One document's rolling log-likelihood and the counts it is weighted by.
struct RollingDocScore {
  double loglikelihood = 0;  // nats, summed over the document's tokens
  int64_t words = 0;
  int64_t bytes = 0;
};

struct WikitextMetrics {
  double word_perplexity = NAN, byte_perplexity = NAN, bits_per_byte = NAN;
};

/// lm-eval's weighted_perplexity / bits_per_byte aggregations over documents, sums in document order.
WikitextMetrics wikitext_metrics(const std::vector<RollingDocScore>& docs);

struct RollingPerplexityResult {
  WikitextMetrics metrics;
  int64_t max_length = 0;
  int64_t windows = 0, tokens = 0, words = 0, bytes = 0;
  std::map<std::string, std::string> record;  // the protocol record (ids: rolling_protocol_id)
  std::string token_ids_sha256;
  std::vector<RollingDocScore> docs;
  std::vector<int64_t> doc_tokens, doc_windows;
};

/// lmeval.<task>.<metric>.T<max_length>@<hash>; metric word | byte | bpb.
std::string rolling_protocol_id(const std::string& task, const std::string& metric, int64_t max_length,
                                const std::map<std::string, std::string>& record);

class RollingPerplexityEvaluator final : public Evaluator {
 public:
  explicit RollingPerplexityEvaluator(RollingPerplexityOptions options);
  std::string name() const override { return "rolling_perplexity"; }
  /// word_perplexity, byte_perplexity, bits_per_byte (n = documents).
  std::vector<Metric> evaluate(const EvalContext& context) override;
  /// "rolling_<dataset>": one row per document (doc, loglikelihood, words, bytes, tokens, windows).
  std::map<std::string, store::Table> tables() const override { return tables_; }
  RollingPerplexityResult run(const EvalContext& context) const;

 private:
  RollingPerplexityOptions options_;
  std::map<std::string, store::Table> tables_;
};

}  // namespace abq::evaluators

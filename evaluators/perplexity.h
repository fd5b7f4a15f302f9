// Perplexity under the GPTQ protocol family (evaluation-protocols.md §2-§3), one evaluator for
// every text assembly:
//   text       a plain-text file encoded as one string               gptq.text-<stem>
//   wikitext2  wiki.test.raw rows joined with "\n\n"                 gptq.wikitext2
//   ptb        ptb.valid.txt rows (stripped) joined with "\n\n"       gptq.ptb
//   ptb-new    ptb.test.txt rows joined with " "                     gptq.ptbnew
//   c4-new     first 1100 C4 validation documents joined with " ",
//              truncated to 256*T tokens                             gptq.c4new
//   c4         GPTQ's seeded sampler: 256 random T-token windows      gptq.c4
// Streams are cut into windows of T tokens every `stride` tokens (stride = T: non-overlapping,
// the reference), tail dropped; window 0 scores its T-1 next-token targets, later windows their
// last `stride` targets (all T-1 when stride = T), with no context from the previous window.
// PPL = exp(mean NLL over scored targets), equal to GPTQ's exp(mean window CE) when stride = T.
// Protocol id: <name>.T<seqlen>@<hash of the protocol record (§8.1)>.
#pragma once

#include <string>

#include "framework/config/options.h"
#include "evaluators/evaluator.h"

namespace abq::evaluators {

struct PerplexityOptions {
  std::string protocol = "text";  // text | wikitext2 | c4 | c4-new | ptb | ptb-new | llamacpp
  std::string data;               // the protocol's file (see README.md)
  std::string dataset;            // label in tables; default: the protocol (text: the file stem)
  int64_t seqlen = 2048;          // T
  int64_t stride = 0;             // 0: T (non-overlapping); 1 <= stride <= T otherwise
  int64_t score_from = 0;         // k >= 1: every window scores targets k..T-1 (T/2: second half); 0: stride rule
  int64_t max_windows = 0;        // 0: all windows
  int64_t batch_size = 1;         // windows per forward
  /// auto (stream_start; per_doc for c4) | stream_start (one BOS before the joined text) |
  /// per_doc (c4: each document encoded with BOS) | per_window (BOS written over each window's
  /// first token, llama.cpp) | none.
  std::string bos = "auto";
  int64_t c4_windows = 256;       // c4 / c4-new window count
  int64_t c4_seed = 0;            // c4: random.seed
  int64_t c4_new_docs = 1100;     // c4-new: documents joined
  bool logit_metrics = true;      // with EvalContext::reference: KL / top-1 / dNLL / dp
};
/// The one declaration of the perplexity evaluator's keys (defaults are the struct's).
const config::OptionSet<PerplexityOptions>& perplexity_options();

struct PerplexityResult {
  double ppl = 0;
  double mean_nll = 0;        // nats per scored target
  double ppl_stderr = NAN;    // llama-perplexity's "+/-": ppl * sqrt((E[nll²] - E[nll]²) / (tokens - 1))
  int64_t windows = 0;
  int64_t tokens = 0;         // scored targets
  std::string protocol;
  std::string token_ids_sha256;
  std::vector<double> window_mean_nll;
  std::vector<int64_t> window_doc, window_offset;  // c4: (document, offset) of each window; else -1, start
  // Filled when a reference model was given.
  bool has_logit_metrics = false;
  std::string logit_protocol;  // hash suffix shared by kl./top1./dp. ids
  double kl_mean = NAN, kl_p50 = NAN, kl_p90 = NAN, kl_p99 = NAN, kl_max = NAN;
  double top1_agreement = NAN, delta_nll = NAN, delta_p_mean = NAN, delta_p_rms = NAN;
  std::vector<double> window_kl_mean;
};

class PerplexityEvaluator final : public Evaluator {
 public:
  explicit PerplexityEvaluator(PerplexityOptions options);
  std::string name() const override { return "perplexity"; }
  std::vector<Metric> evaluate(const EvalContext& context) override;
  /// "ppl_<dataset>": one row per window (window, doc, offset, nll_mean[, kl_mean]).
  std::map<std::string, store::Table> tables() const override { return tables_; }
  bool uses_reference() const override { return options_.logit_metrics; }
  PerplexityResult run(const EvalContext& context) const;

 private:
  PerplexityOptions options_;
  std::map<std::string, store::Table> tables_;
};

/// Mean next-token NLL of each window (rows of `tokens` [B,T]) under `model`; fp32 log-softmax,
/// computed in slices of the T axis to bound memory at large vocabularies.
std::vector<double> window_nll(const model::LlamaModel& model, const std::vector<std::vector<int64_t>>& windows);

}  // namespace abq::evaluators

// The Evaluator plugin kind: model + tokenizer + typed options -> metrics, each carrying the
// protocol id it was measured under (../shared/spec/evaluation-protocols.md §8). Two values are
// comparable only when their protocol ids match.
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "framework/store/table.h"

namespace abq::model { class LlamaModel; }
namespace abq::tokenize { class Tokenizer; }

namespace abq::evaluators {

struct Metric {
  std::string metric;    // "ppl", "acc", ...
  std::string dataset;   // "sotu-heldout", "wikitext2", ...
  std::string protocol;  // protocol id, e.g. gptq.text-sotu.T2048@3f9a0c1d2e4b
  double value = 0;
  double stderr_value = NAN;
  int64_t n = 0;         // windows or examples scored
};

/// What every evaluator sees. `quant_state` is the activation / KV state active during evaluation
/// (e.g. "A8KV16"; weight bits are not part of a protocol); it is folded into the protocol record. `reference`, when set, is the
/// unquantized model: perplexity then also reports the logit metrics of
/// evaluation-protocols.md §7 (KL(fp || quant), top-1 agreement, NLL difference) on its windows.
struct EvalContext {
  const model::LlamaModel& model;
  const tokenize::Tokenizer& tokenizer;
  std::string tokenizer_sha256;
  std::string quant_state;
  const model::LlamaModel* reference = nullptr;
  std::string reference_id = "";  // identifies `reference` in the logit-metric record (e.g. checkpoint sha256)
  // Multiple-choice scoring runs a question's shared context once and its choices against the cached
  // keys / values (evaluators/shared_context.h). Exact only when every activation hook is token-local
  // (per-token / per-group dynamic or static ranges); the pipeline clears it otherwise, and scoring
  // then runs each choice's whole input.
  bool prefix_reuse = true;
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual std::string name() const = 0;
  virtual std::vector<Metric> evaluate(const EvalContext& context) = 0;
  /// Per-example tables of the last evaluate() call, keyed by table name (e.g. "zs_piqa" with
  /// one row per (example, choice)); stored as RunRecord::tables. Empty for most evaluators.
  virtual std::map<std::string, store::Table> tables() const { return {}; }
  /// True when evaluate() reads EvalContext::reference (logit metrics against the fp model); the
  /// pipeline loads the unquantized model only when some evaluator asks for it.
  virtual bool uses_reference() const { return false; }
};

/// Protocol id from a record: `<name>.T<seqlen>@<first 12 hex of sha256(canonical record)>`.
/// The record's keys are sorted, so the id does not depend on insertion order.
std::string protocol_id(const std::string& name, int64_t seqlen, const std::map<std::string, std::string>& record);

/// Zero-shot protocol id (evaluation-protocols.md §8.2): `zs.<task>.<metric>.0shot@<12 hex>`.
std::string zero_shot_protocol_id(const std::string& task, const std::string& metric,
                                  const std::map<std::string, std::string>& record);

/// lm-eval's stderr of a mean: sample standard deviation (n - 1) / sqrt(n); NaN when n < 2.
double mean_stderr(const std::vector<double>& values);

/// Unicode code points of UTF-8 text (Python's len(str), used by acc_norm).
int64_t utf8_length(const std::string& text);

}  // namespace abq::evaluators

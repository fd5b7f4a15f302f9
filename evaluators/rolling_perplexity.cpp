#include "evaluators/rolling_perplexity.h"

#include <cmath>

#include "evaluators/lm_eval_wikitext.h"
#include "evaluators/loglikelihood.h"
#include "evaluators/rolling_windows.h"
#include "framework/core/error.h"
#include "framework/core/sha256.h"
#include "framework/model/llama_model.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::evaluators {
namespace {

// lm-eval's DEFAULT_MAX_LENGTH, used when the model declares no context length.
constexpr int64_t kDefaultMaxLength = 2048;

bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

}  // namespace

WikitextMetrics wikitext_metrics(const std::vector<RollingDocScore>& docs) {
  // weighted_mean(items) = sum(a) / sum(b), Python sums in document order
  double ll = 0;
  int64_t words = 0, bytes = 0;
  for (const auto& d : docs) {
    ll += d.loglikelihood;
    words += d.words;
    bytes += d.bytes;
  }
  WikitextMetrics m;
  if (words > 0) m.word_perplexity = std::exp(-(ll / double(words)));
  if (bytes > 0) {
    m.byte_perplexity = std::exp(-(ll / double(bytes)));
    m.bits_per_byte = -(ll / double(bytes)) / std::log(2.0);
  }
  return m;
}

std::string rolling_protocol_id(const std::string& task, const std::string& metric, int64_t max_length,
                                const std::map<std::string, std::string>& record) {
  return protocol_id(cat("lmeval.", task, ".", metric), max_length, record);
}

RollingPerplexityEvaluator::RollingPerplexityEvaluator(RollingPerplexityOptions options) : options_(std::move(options)) {
  if (options_.task != "wikitext")
    throw ConfigError(cat("rolling_perplexity: unknown task '", options_.task, "'; expected wikitext"));
  if (options_.max_length != 0 && options_.max_length < 1)
    throw ConfigError(cat("rolling_perplexity: max_length must be >= 1 (or 0: the model's context length), got ",
                          options_.max_length));
  if (options_.limit < 0) throw ConfigError(cat("rolling_perplexity: limit must be >= 0, got ", options_.limit));
  if (options_.batch_size < 1)
    throw ConfigError(cat("rolling_perplexity: batch_size must be >= 1, got ", options_.batch_size));
}

RollingPerplexityResult RollingPerplexityEvaluator::run(const EvalContext& context) const {
  const auto& o = options_;
  const auto& tok = context.tokenizer;
  const auto& model = context.model;
  const int64_t context_length = model.config().max_position;
  const int64_t M = o.max_length > 0 ? o.max_length : context_length > 0 ? context_length : kDefaultMaxLength;
  if (context_length > 0 && M > context_length)
    throw Error(cat("rolling_perplexity: max_length ", M, " exceeds the model's context length ", context_length,
                    " (max_position_embeddings); use max_length <= ", context_length, " or 0 for the model's own"));
  // lm-eval HFLM.prefix_token_id: BOS, else EOS (EOT)
  const bool has_bos = tok.bos_id() >= 0;
  const int64_t prefix = has_bos ? tok.bos_id() : tok.eos_id();
  if (prefix < 0) throw Error("rolling_perplexity: the tokenizer has neither BOS nor EOS for the first window's prefix");

  std::vector<std::string> pages;
  try {
    pages = read_wikitext_pages(o.data);
  } catch (Error& e) {
    throw e.with_context(cat("while reading the ", o.task, " documents"));
  }
  if (o.limit > 0 && int64_t(pages.size()) > o.limit) pages.resize(size_t(o.limit));

  RollingPerplexityResult r;
  r.max_length = M;
  std::vector<TokenRequest> requests;
  Sha256 h;
  bool bos_inserted = false;
  for (const auto& page : pages) {
    std::vector<int64_t> ids = tok.encode(wikitext_detokenize(page), o.add_special_tokens);
    bos_inserted = bos_inserted || (has_bos && !ids.empty() && ids.front() == tok.bos_id() && o.add_special_tokens);
    int32_t n = int32_t(ids.size());
    h.update(&n, sizeof(n));
    for (int64_t id : ids) {
      int32_t v = int32_t(id);  // int32 ids, as the perplexity record (evaluation-protocols.md §8.1)
      h.update(&v, sizeof(v));
    }
    auto windows = rolling_token_windows(ids, prefix, M);
    r.doc_tokens.push_back(int64_t(ids.size()));
    r.doc_windows.push_back(int64_t(windows.size()));
    r.docs.push_back({0.0, python_whitespace_split_count(page), int64_t(page.size())});
    for (auto& w : windows) requests.push_back(std::move(w));
  }
  r.token_ids_sha256 = h.hex_digest();

  const auto scores = score_requests(model, requests, o.batch_size, M);
  size_t next = 0;
  for (size_t d = 0; d < r.docs.size(); ++d) {
    // loglikelihood_rolling: the document's windows summed in order
    for (int64_t w = 0; w < r.doc_windows[d]; ++w) r.docs[d].loglikelihood += scores[next++].logprob;
    r.tokens += r.doc_tokens[d];
    r.windows += r.doc_windows[d];
    r.words += r.docs[d].words;
    r.bytes += r.docs[d].bytes;
  }
  r.metrics = wikitext_metrics(r.docs);
  for (double v : {r.metrics.word_perplexity, r.metrics.byte_perplexity, r.metrics.bits_per_byte})
    if (!std::isfinite(v))
      throw Error(cat("rolling_perplexity: non-finite metric ", v, " over ", r.docs.size(), " documents of '", o.data,
                      "' (", r.tokens, " tokens)"));

  auto& rec = r.record;
  const bool json_lines = ends_with(o.data, ".jsonl") || ends_with(o.data, ".json");
  rec["assembly"] = json_lines ? "documents=jsonl page"
                               : "documents=raw split at top-level ' = Title = ' headings (wikitext_document_level)";
  rec["ce_dtype"] = "fp32-logsumexp";  // token_logprobs.h
  rec["counts"] = "words=len(re.split(\\s+, page)) bytes=len(page.utf8) before detokenization";
  rec["dataset.docs"] = std::to_string(r.docs.size());
  rec["dataset.file_sha256"] = sha256_file(o.data);
  rec["detokenizer"] = "lm-eval wikitext_detokenizer (task version 2.0)";
  rec["doc_bos"] = bos_inserted ? "tokenizer" : "none";  // what was done, not what was asked
  rec["formula"] = "word=exp(-sum_ll/sum_words) byte=exp(-sum_ll/sum_bytes) bpb=-sum_ll/sum_bytes/ln2";
  rec["max_length"] = std::to_string(M);
  rec["model_dtype"] = std::string(c10::toString(model.dtype()));
  rec["prefix_token"] = cat(has_bos ? "bos:" : "eos:", prefix);
  rec["quant_state"] = context.quant_state;
  rec["token_ids_sha256"] = r.token_ids_sha256;
  rec["tokenizer"] = tok.name() + ":" + context.tokenizer_sha256;
  rec["windows"] = "get_rolling_token_windows context_len=1 + make_disjoint_window";
  return r;
}

std::vector<Metric> RollingPerplexityEvaluator::evaluate(const EvalContext& context) {
  RollingPerplexityResult r = run(context);
  const std::string dataset = options_.dataset.empty() ? options_.task : options_.dataset;
  const auto id = [&](const char* metric) { return rolling_protocol_id(options_.task, metric, r.max_length, r.record); };
  const auto n = int64_t(r.docs.size());
  std::vector<Metric> out = {{"word_perplexity", dataset, id("word"), r.metrics.word_perplexity, NAN, n},
                             {"byte_perplexity", dataset, id("byte"), r.metrics.byte_perplexity, NAN, n},
                             {"bits_per_byte", dataset, id("bpb"), r.metrics.bits_per_byte, NAN, n}};
  std::vector<int64_t> index(r.docs.size()), words, bytes;
  std::vector<double> ll;
  for (size_t d = 0; d < r.docs.size(); ++d) {
    index[d] = int64_t(d);
    ll.push_back(r.docs[d].loglikelihood);
    words.push_back(r.docs[d].words);
    bytes.push_back(r.docs[d].bytes);
  }
  store::Table table;
  table.add_i64("doc", index).add_f64("loglikelihood", ll).add_i64("words", words).add_i64("bytes", bytes)
      .add_i64("tokens", r.doc_tokens).add_i64("windows", r.doc_windows);
  tables_.clear();
  tables_["rolling_" + dataset] = std::move(table);
  return out;
}

const config::OptionSet<RollingPerplexityOptions>& rolling_perplexity_options() {
  using config::Schema;
  using O = RollingPerplexityOptions;
  static const auto set =
      config::OptionSet<O>()
          .field("task", &O::task, Schema::enumeration({"wikitext"}).doc(
                     "lm-eval loglikelihood_rolling task: wikitext (document-level WikiText-2, README.md)"))
          .field("data", &O::data, Schema::string().required().doc("wiki.test.raw (split into the wikitext_document_level pages) or "
                                                                  "JSON lines with a \"page\" field"))
          .field("dataset", &O::dataset, Schema::string().optional().doc("label in tables (default: the task)"))
          .field("max_length", &O::max_length, Schema::integer().range(0, 1 << 20).doc(
                     "rolling window length M; 0 = the model's context length, as lm-eval's HF model "
                     "(max_position_embeddings; 2048 when unknown)"))
          .field("limit", &O::limit, Schema::integer().range(0, 1 << 30).doc("score only the first N documents; 0 = all"))
          .field("batch_size", &O::batch_size, Schema::integer().range(1, 4096).doc("windows per forward"))
          .field("add_special_tokens", &O::add_special_tokens, Schema::boolean().doc(
                     "encode documents with the tokenizer's BOS rule (lm-eval >= 0.4.10); "
                     "false = without (lm-eval <= 0.4.9.1)"));
  return set;
}

}  // namespace abq::evaluators

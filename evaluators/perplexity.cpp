#include "evaluators/perplexity.h"

#include <cmath>
#include <unordered_map>

#include "evaluators/logit_metrics.h"
#include "evaluators/token_logprobs.h"
#include "framework/core/error.h"
#include "framework/core/progress.h"
#include "framework/core/sha256.h"
#include "framework/core/spellcheck.h"
#include "framework/data/c4_json.h"
#include "framework/data/gptq_c4_windows.h"
#include "framework/data/ptb_rows.h"
#include "framework/data/python_text.h"
#include "framework/data/token_windows.h"
#include "framework/data/wikitext_rows.h"
#include "framework/model/llama_model.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::evaluators {
namespace {

// Positions per scoring slice: [B, 64, V] fp32 logits at a time (12.6 MB for a 49k vocabulary),
// small enough to be reused from the heap instead of mapped and zeroed afresh per window
// (pipeline/cpu_threads.cpp), large enough to keep lm_head a full-rate GEMM.
constexpr int64_t kLogitSlice = 64;

std::string file_stem(const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dot = base.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

std::string hash_token_ids(const std::vector<std::vector<int64_t>>& windows) {
  Sha256 h;
  for (const auto& w : windows)
    for (int64_t id : w) {
      int32_t v = int32_t(id);  // the record hashes int32 ids (evaluation-protocols.md §8.1)
      h.update(&v, sizeof(v));
    }
  return h.hex_digest();
}

torch::Tensor to_tensor(const std::vector<std::vector<int64_t>>& windows, size_t first, size_t last,
                        const torch::Device& device) {
  const int64_t T = int64_t(windows[first].size());
  auto tokens = torch::empty({int64_t(last - first), T}, torch::kInt64);
  for (size_t b = first; b < last; ++b)
    std::copy(windows[b].begin(), windows[b].end(), tokens[int64_t(b - first)].data_ptr<int64_t>());
  return tokens.to(device);
}

struct Assembly {
  std::string name;  // short protocol name (§8.4)
  std::vector<std::vector<int64_t>> windows;
  std::vector<int64_t> first_target;  // per window: index of the first scored target token
  std::vector<int64_t> doc, offset;
  std::map<std::string, std::string> record;  // protocol record entries of the assembly
  bool bos_inserted = false;                  // the tokenizer's rules put BOS before the stream
};

// Windows every `stride` tokens; window 0 scores targets 1..T-1, later ones the last `stride`.
void cut_stream(Assembly& a, const std::vector<int64_t>& stream, int64_t T, int64_t stride, int64_t max_windows) {
  for (int64_t start = 0; start + T <= int64_t(stream.size()); start += stride) {
    if (max_windows > 0 && int64_t(a.windows.size()) >= max_windows) break;
    a.windows.emplace_back(stream.begin() + start, stream.begin() + start + T);
    a.first_target.push_back(start == 0 || stride == T ? 1 : T - stride);
    a.doc.push_back(-1);
    a.offset.push_back(start);
  }
}

}  // namespace

std::vector<double> window_nll(const model::LlamaModel& model, const std::vector<std::vector<int64_t>>& windows) {
  torch::NoGradGuard no_grad;
  const int64_t B = int64_t(windows.size());
  const int64_t T = int64_t(windows.front().size());
  auto tokens = to_tensor(windows, 0, windows.size(), model.device());
  auto hidden = model.final_hidden(tokens);  // (B, T, C)
  auto nll_sum = torch::zeros({B}, torch::kFloat64);
  for (int64_t start = 0; start < T - 1; start += kLogitSlice) {
    int64_t stop = std::min(start + kLogitSlice, T - 1);
    auto logits = model.lm_head(hidden.slice(1, start, stop));  // (B, S, V)
    auto targets = tokens.slice(1, start + 1, stop + 1);         // (B, S)
    nll_sum -= target_logprobs(logits, targets).sum(1);
  }
  std::vector<double> out(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) out[b] = nll_sum[b].item<double>() / double(T - 1);
  return out;
}

PerplexityEvaluator::PerplexityEvaluator(PerplexityOptions options) : options_(std::move(options)) {
  static const std::vector<std::string> protocols = {"text", "wikitext2", "c4", "c4-new", "ptb", "ptb-new", "llamacpp"};
  if (std::find(protocols.begin(), protocols.end(), options_.protocol) == protocols.end())
    throw ConfigError(cat("perplexity: unknown protocol '", options_.protocol, "'; expected one of ", join(protocols)));
  if (options_.seqlen < 2) throw ConfigError(cat("perplexity: seqlen must be >= 2, got ", options_.seqlen));
  if (options_.stride == 0) options_.stride = options_.seqlen;
  if (options_.stride < 1 || options_.stride > options_.seqlen)
    throw ConfigError(cat("perplexity: stride must be in [1, seqlen = ", options_.seqlen, "], got ", options_.stride));
  if (options_.score_from >= options_.seqlen)
    throw ConfigError(cat("perplexity: score_from must be < seqlen = ", options_.seqlen, ", got ", options_.score_from));
  if (options_.protocol == "c4" && options_.stride != options_.seqlen)
    throw ConfigError("perplexity: protocol c4 samples whole random windows; stride does not apply");
  if (options_.protocol == "llamacpp") {
    // llama-perplexity: BOS into each chunk's first position, the second half scored (first = n_ctx/2).
    if (options_.stride != options_.seqlen)
      throw ConfigError("perplexity: protocol llamacpp cuts non-overlapping n_ctx chunks; stride does not apply");
    if (options_.bos == "auto") options_.bos = "per_window";
    if (options_.score_from == 0) options_.score_from = options_.seqlen / 2 + 1;
  }
  if (options_.bos == "auto") options_.bos = options_.protocol == "c4" ? "per_doc" : "stream_start";
  static const std::vector<std::string> bos_modes = {"stream_start", "per_doc", "per_window", "none"};
  if (std::find(bos_modes.begin(), bos_modes.end(), options_.bos) == bos_modes.end())
    throw ConfigError(cat("perplexity: bos must be auto, ", join(bos_modes), "; got '", options_.bos, "'"));
  if (options_.bos == "per_doc" && options_.protocol != "c4")
    throw ConfigError("perplexity: bos per_doc applies to protocol c4 only (the others encode one string)");
  if (options_.protocol == "c4" && options_.bos == "stream_start")
    throw ConfigError("perplexity: protocol c4 encodes documents separately; use bos per_doc or none");
}

PerplexityResult PerplexityEvaluator::run(const EvalContext& context) const {
  const auto& tok = context.tokenizer;
  const auto& o = options_;
  const int64_t T = o.seqlen;
  // per_window follows llama.cpp: the stream is encoded with BOS, then every window's first
  // token is overwritten with BOS.
  const bool stream_bos = o.bos == "stream_start" || o.bos == "per_window";
  Assembly a;
  try {
    if (o.protocol == "c4") {
      auto docs = data::c4_documents(o.data);
      std::unordered_map<int64_t, std::vector<int64_t>> cache;
      auto encode = [&](int64_t i) -> std::vector<int64_t> {
        auto it = cache.find(i);
        if (it == cache.end()) it = cache.emplace(i, tok.encode(docs[size_t(i)], o.bos == "per_doc")).first;
        return it->second;
      };
      int64_t count = o.max_windows > 0 ? std::min(o.max_windows, o.c4_windows) : o.c4_windows;
      for (auto& w : data::gptq_c4_windows(int64_t(docs.size()), encode, count, T, uint64_t(o.c4_seed))) {
        a.windows.push_back(std::move(w.tokens));
        a.first_target.push_back(1);
        a.doc.push_back(w.doc);
        a.offset.push_back(w.offset);
      }
      a.name = "gptq.c4";
      a.record = {{"dataset.docs", std::to_string(docs.size())},
                  {"sampler", cat("random_docs seed=", o.c4_seed, " n=", o.c4_windows,
                                  " min_len=T offset=randint(0,len-T-1)")},
                  {"assembly", "per document encode"}};
    } else {
      std::string text, assembly;
      if (o.protocol == "text" || o.protocol == "llamacpp") {
        text = data::read_text_file(o.data);
        assembly = "whole file, one encode call";
        a.name = (o.protocol == "text" ? "gptq.text-" : "llamacpp.text-") + file_stem(o.data);
      } else if (o.protocol == "wikitext2") {
        text = data::python_join(data::wikitext_rows(o.data), "\n\n");
        assembly = "join=\\n\\n rows=hf-wikitext";
        a.name = "gptq.wikitext2";
      } else if (o.protocol == "ptb" || o.protocol == "ptb-new") {
        const bool is_new = o.protocol == "ptb-new";
        text = data::python_join(data::ptb_rows(o.data), is_new ? " " : "\n\n");
        assembly = is_new ? "join=' ' rows=hf-ptb_text_only" : "join=\\n\\n rows=hf-ptb_text_only";
        a.name = is_new ? "gptq.ptbnew" : "gptq.ptb";
      } else {  // c4-new
        text = data::python_join(data::c4_documents(o.data, o.c4_new_docs), " ");
        assembly = cat("join=' ' docs=first_", o.c4_new_docs, " truncate=", o.c4_windows, "*T");
        a.name = "gptq.c4new";
      }
      std::vector<int64_t> stream = tok.encode(text, stream_bos);
      a.bos_inserted = stream_bos && !stream.empty() && tok.bos_id() >= 0 && stream.front() == tok.bos_id();
      if (o.protocol == "c4-new" && int64_t(stream.size()) > o.c4_windows * T) stream.resize(size_t(o.c4_windows * T));
      cut_stream(a, stream, T, o.stride, o.max_windows);
      if (a.windows.empty())
        throw Error(cat("perplexity: '", o.data, "' gives ", stream.size(), " tokens, fewer than one window of ", T,
                        " (lower seqlen or use a longer text)"));
      a.record = {{"assembly", assembly}, {"sampler", "contiguous"}};
    }
  } catch (Error& e) {
    throw e.with_context(cat("while building the ", o.protocol, " perplexity windows from '", o.data, "'"));
  }
  if (o.score_from > 0)
    for (auto& first : a.first_target) first = std::max(first, o.score_from);
  if (o.bos == "per_window") {
    if (tok.bos_id() < 0) throw Error("perplexity: bos per_window needs a tokenizer with a BOS token");
    // As llama-perplexity: only when the tokenizer's rules add BOS (add_bos_token) at all.
    if (a.bos_inserted)
      for (auto& w : a.windows) w[0] = tok.bos_id();
  }

  PerplexityResult result;
  result.windows = int64_t(a.windows.size());
  result.token_ids_sha256 = hash_token_ids(a.windows);
  result.window_doc = a.doc;
  result.window_offset = a.offset;

  const auto& model = context.model;
  const model::LlamaModel* ref = o.logit_metrics ? context.reference : nullptr;
  LogitMetrics lm;
  torch::NoGradGuard no_grad;
  double nll_total = 0, nll_squares = 0;
  int64_t scored = 0;
  Progress progress("perplexity " + a.name, result.windows, "win");
  for (size_t first = 0; first < a.windows.size(); first += size_t(o.batch_size)) {
    size_t last = std::min(a.windows.size(), first + size_t(o.batch_size));
    auto tokens = to_tensor(a.windows, first, last, model.device());
    auto hidden = model.final_hidden(tokens);  // [B, T, C]
    torch::Tensor ref_hidden;
    if (ref) ref_hidden = ref->final_hidden(tokens.to(ref->device()));
    const int64_t B = int64_t(last - first);
    std::vector<double> nll(size_t(B), 0.0), kl(size_t(B), 0.0);
    for (int64_t start = 0; start < T - 1; start += kLogitSlice) {
      int64_t stop = std::min(start + kLogitSlice, T - 1);  // logits at positions [start, stop) predict start+1..
      auto logits = model.lm_head(hidden.slice(1, start, stop)).to(torch::kFloat32);  // [B, S, V]
      auto targets = tokens.slice(1, start + 1, stop + 1);                            // [B, S]
      auto tok_nll = -target_logprobs(logits, targets);                               // [B, S] fp64
      torch::Tensor ref_logits;
      if (ref) ref_logits = ref->lm_head(ref_hidden.slice(1, start, stop));
      for (int64_t b = 0; b < B; ++b) {
        // predicting position p scores target p + 1; keep targets >= first_target
        int64_t from = std::max(start, a.first_target[first + size_t(b)] - 1);
        if (from >= stop) continue;
        auto scored_nll = tok_nll[b].slice(0, from - start, stop - start);
        nll[size_t(b)] += scored_nll.sum().item<double>();
        nll_squares += scored_nll.pow(2).sum().item<double>();
        if (ref)
          kl[size_t(b)] += lm.add(logits[b].slice(0, from - start, stop - start),
                                  ref_logits[b].slice(0, from - start, stop - start),
                                  targets[b].slice(0, from - start, stop - start));
      }
    }
    for (int64_t b = 0; b < B; ++b) {
      const int64_t n_targets = T - a.first_target[first + size_t(b)];
      if (!std::isfinite(nll[size_t(b)]))
        throw Error(cat("perplexity: non-finite NLL in window ", first + size_t(b), " of ", a.name, " (", o.data,
                        "): the model produced NaN/Inf logits"));
      nll_total += nll[size_t(b)];
      scored += n_targets;
      result.window_mean_nll.push_back(nll[size_t(b)] / double(n_targets));
      if (ref) result.window_kl_mean.push_back(kl[size_t(b)] / double(n_targets));
    }
    progress.advance(B);
  }
  progress.finish();
  result.tokens = scored;
  result.mean_nll = nll_total / double(scored);
  result.ppl = std::exp(result.mean_nll);
  const double variance = nll_squares / double(scored) - result.mean_nll * result.mean_nll;
  if (scored > 1 && variance > 0) result.ppl_stderr = result.ppl * std::sqrt(variance / double(scored - 1));

  std::map<std::string, std::string> record = a.record;
  // What was done, not what was asked: `auto` with a tokenizer that adds no BOS inserted none.
  const bool stream_mode = o.bos == "stream_start" || o.bos == "per_window";
  record["bos"] = tok.bos_id() < 0 || (stream_mode && !a.bos_inserted) ? "none" : o.bos;
  record["ce_dtype"] = "fp32-logsumexp";  // token_logprobs.h: x_t - logsumexp(x), not fp32 log_softmax
  record["dataset.file_sha256"] = sha256_file(o.data);
  record["formula"] = o.stride == T && o.score_from == 0 ? "exp_mean_window_ce" : "exp_token_mean";
  record["model_dtype"] = std::string(c10::toString(model.dtype()));
  record["quant_state"] = context.quant_state;
  record["scored"] = o.stride == T ? "all_but_first" : "last_stride";
  if (o.score_from > 0) record["scored"] += cat(" from=", o.score_from);
  record["seqlen"] = std::to_string(T);
  record["stride"] = std::to_string(o.stride);
  record["tail"] = "drop";
  record["token_ids_sha256"] = result.token_ids_sha256;
  record["tokenizer"] = tok.name() + ":" + context.tokenizer_sha256;
  result.protocol = protocol_id(a.name, T, record);
  if (ref) {
    result.has_logit_metrics = true;
    record["direction"] = "fp_to_q";
    record["position_set"] = "scored";
    record["reduction"] = "mean";
    record["reference_model"] = context.reference_id + " dtype=" + std::string(c10::toString(ref->dtype()));
    result.logit_protocol = protocol_id(a.name, T, record);
    result.kl_mean = lm.kl_mean();
    result.kl_p50 = lm.kl_percentile(50);
    result.kl_p90 = lm.kl_percentile(90);
    result.kl_p99 = lm.kl_percentile(99);
    result.kl_max = lm.kl_max();
    result.top1_agreement = lm.top1_agreement();
    result.delta_nll = lm.delta_nll_mean();
    result.delta_p_mean = lm.delta_p_mean();
    result.delta_p_rms = lm.delta_p_rms();
  }
  return result;
}

std::vector<Metric> PerplexityEvaluator::evaluate(const EvalContext& context) {
  PerplexityResult r = run(context);
  std::string dataset = options_.dataset;
  const bool text_file = options_.protocol == "text" || options_.protocol == "llamacpp";
  if (dataset.empty()) dataset = text_file ? file_stem(options_.data) : options_.protocol;
  // Only llama-perplexity publishes a "+/-" (it treats tokens as independent draws).
  const double ppl_stderr = options_.protocol == "llamacpp" ? r.ppl_stderr : NAN;
  std::vector<Metric> out = {Metric{"ppl", dataset, r.protocol, r.ppl, ppl_stderr, r.windows},
                             Metric{"nll", dataset, r.protocol, r.mean_nll, NAN, r.tokens}};
  store::Table table;
  std::vector<int64_t> index(size_t(r.windows));
  for (int64_t w = 0; w < r.windows; ++w) index[size_t(w)] = w;
  table.add_i64("window", index).add_i64("doc", r.window_doc).add_i64("offset", r.window_offset)
      .add_f64("nll_mean", r.window_mean_nll);
  if (r.has_logit_metrics) {
    table.add_f64("kl_mean", r.window_kl_mean);
    const std::string& p = r.logit_protocol;
    const int64_t n = r.tokens;
    out.push_back({"kl_mean", dataset, "kl." + p, r.kl_mean, NAN, n});
    out.push_back({"kl_p50", dataset, "kl." + p, r.kl_p50, NAN, n});
    out.push_back({"kl_p90", dataset, "kl." + p, r.kl_p90, NAN, n});
    out.push_back({"kl_p99", dataset, "kl." + p, r.kl_p99, NAN, n});
    out.push_back({"kl_max", dataset, "kl." + p, r.kl_max, NAN, n});
    out.push_back({"top1_agreement", dataset, "top1." + p, r.top1_agreement, NAN, n});
    out.push_back({"delta_nll", dataset, "kl." + p, r.delta_nll, NAN, n});
    out.push_back({"delta_p_mean", dataset, "dp." + p, r.delta_p_mean, NAN, n});
    out.push_back({"delta_p_rms", dataset, "dp." + p, r.delta_p_rms, NAN, n});
  }
  tables_.clear();
  tables_["ppl_" + dataset] = std::move(table);
  return out;
}

const config::OptionSet<PerplexityOptions>& perplexity_options() {
  using config::Schema;
  using O = PerplexityOptions;
  static const auto set =
      config::OptionSet<O>()
          .field("protocol", &O::protocol, Schema::enumeration({"text", "wikitext2", "c4", "c4-new", "ptb", "ptb-new", "llamacpp"})
                                               .doc("text assembly (README.md): text file, GPTQ wikitext2 / c4 / c4-new / ptb / ptb-new, "
                                                    "llamacpp (llama-perplexity on a text file)"))
          .field("data", &O::data, Schema::string().required().doc("the protocol's file: text file, wiki.test.raw, ptb.valid.txt (ptb), "
                                                                  "ptb.test.txt (ptb-new), c4-validation.00000-of-00008.json[.gz] (c4, c4-new)"))
          .field("dataset", &O::dataset, Schema::string().optional().doc("label in tables (default: the protocol; text: the file stem)"))
          .field("seqlen", &O::seqlen, Schema::integer().range(2, 1 << 20).doc("window length T (GPTQ: 2048)"))
          .field("stride", &O::stride, Schema::integer().range(0, 1 << 20).doc(
                     "tokens between window starts; 0 = seqlen (non-overlapping, GPTQ); smaller scores the last stride targets"))
          .field("score_from", &O::score_from, Schema::integer().range(0, 1 << 20).doc(
                     "score only the targets at positions >= k of every window (seqlen/2: the second half, "
                     "as Brevitas; llamacpp: seqlen/2 + 1); 0 = by the stride rule"))
          .field("max_windows", &O::max_windows, Schema::integer().range(0, 1 << 30).doc("score only the first N windows; 0 = all"))
          .field("batch_size", &O::batch_size, Schema::integer().range(1, 4096).doc("windows per forward"))
          .field("bos", &O::bos, Schema::enumeration({"auto", "stream_start", "per_doc", "per_window", "none"})
                                     .doc("BOS convention; auto = stream_start (one BOS before the joined text), per_doc for c4"))
          .field("c4_windows", &O::c4_windows, Schema::integer().range(1, 1 << 20).doc("c4 / c4-new: number of windows (GPTQ: 256)"))
          .field("c4_seed", &O::c4_seed, Schema::integer().range(0, int64_t(1) << 62).doc("c4: random.seed of the sampler (GPTQ: 0)"))
          .field("c4_new_docs", &O::c4_new_docs, Schema::integer().range(1, 1 << 30).doc("c4-new: documents joined (GPTQ: 1100)"))
          .field("logit_metrics", &O::logit_metrics,
                 Schema::boolean().doc("with an unquantized reference model: KL(fp||quant), top-1 agreement, dNLL, dp"));
  return set;
}

}  // namespace abq::evaluators

#include "evaluators/zero_shot.h"

#include <algorithm>
#include <cmath>

#include "evaluators/loglikelihood.h"
#include "evaluators/shared_context.h"
#include "evaluators/zero_shot_tasks.h"
#include "framework/core/error.h"
#include "framework/core/sha256.h"
#include "framework/model/llama_model.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::evaluators {
namespace {

// First maximal index (numpy.argmax).
size_t argmax(const std::vector<double>& v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

}  // namespace

ZeroShotEvaluator::ZeroShotEvaluator(ZeroShotOptions options) : options_(std::move(options)) {
  task_info(options_.task);  // validates the name
  if (options_.limit < 0) throw ConfigError(cat("zero_shot: limit must be >= 0, got ", options_.limit));
  if (options_.sample_seed >= 0 && options_.limit == 0)
    throw ConfigError("zero_shot: sample_seed needs limit > 0 (the sample size)");
  if (options_.batch_size < 1) throw ConfigError(cat("zero_shot: batch_size must be >= 1, got ", options_.batch_size));
  if (options_.max_length < 2) throw ConfigError(cat("zero_shot: max_length must be >= 2, got ", options_.max_length));
}

ZeroShotScores ZeroShotEvaluator::score(const EvalContext& context) const {
  const auto& o = options_;
  const TaskInfo& info = task_info(o.task);
  std::vector<TaskDoc> all = load_task(o.task, o.data, o.labels);
  std::vector<TaskDoc> docs;
  if (o.limit > 0 && o.sample_seed >= 0) {
    auto picked = python_sample(int64_t(all.size()), std::min<int64_t>(o.limit, int64_t(all.size())), uint64_t(o.sample_seed));
    std::sort(picked.begin(), picked.end());
    for (int64_t i : picked) docs.push_back(all[size_t(i)]);
  } else {
    size_t n = o.limit > 0 ? std::min(all.size(), size_t(o.limit)) : all.size();
    docs.assign(all.begin(), all.begin() + int64_t(n));
  }
  if (docs.empty()) throw Error(cat("zero_shot ", o.task, ": '", o.data, "' holds no documents"));

  std::vector<TokenRequest> requests;
  Sha256 h;
  for (const auto& d : docs)
    for (size_t c = 0; c < d.contexts.size(); ++c) {
      requests.push_back(encode_request(context.tokenizer, d.contexts[c], d.continuations[c], o.add_bos));
      for (const auto* part : {&requests.back().context, &requests.back().continuation}) {
        for (int64_t id : *part) {
          int32_t v = int32_t(id);
          h.update(&v, sizeof(v));
        }
        int32_t sep = -1;
        h.update(&sep, sizeof(sep));
      }
    }
  requests_sha256_ = h.hex_digest();
  // Same log-likelihoods either way (up to float rounding) when reuse is exact, so the protocol
  // record does not name the path.
  std::vector<LoglikelihoodResult> results;
  try {
    results = context.prefix_reuse
                  ? score_requests_sharing_context(context.model, requests, o.batch_size, o.max_length)
                  : score_requests(context.model, requests, o.batch_size, o.max_length);
  } catch (Error& e) {
    e.with_context(cat("zero_shot ", o.task, " on ", o.data, " (", requests.size(), " requests)"));
    throw;
  }

  ZeroShotScores s;
  s.n = int64_t(docs.size());
  std::vector<int64_t> col_doc, col_choice, col_gold, col_tokens, col_chars, col_bytes;
  std::vector<double> col_ll;
  std::vector<int32_t> col_greedy;
  std::vector<double> acc, acc_norm, lls;
  size_t r = 0;
  for (const auto& d : docs) {
    std::vector<double> ll, ll_norm;
    bool greedy = true;
    for (size_t c = 0; c < d.contexts.size(); ++c, ++r) {
      const auto& res = results[r];
      ll.push_back(res.logprob);
      ll_norm.push_back(res.logprob / double(utf8_length(d.choices[c])));
      greedy = greedy && res.greedy;
      col_doc.push_back(d.index);
      col_choice.push_back(int64_t(c));
      col_gold.push_back(d.gold);
      col_ll.push_back(res.logprob);
      col_greedy.push_back(res.greedy ? 1 : 0);
      col_tokens.push_back(res.tokens);
      col_chars.push_back(utf8_length(d.choices[c]));
      col_bytes.push_back(int64_t(d.choices[c].size()));
    }
    s.docs.push_back(d.index);
    if (info.kind == TaskKind::loglikelihood) {
      acc.push_back(greedy ? 1.0 : 0.0);
      lls.push_back(ll[0]);
    } else {
      acc.push_back(int64_t(argmax(ll)) == d.gold ? 1.0 : 0.0);
      acc_norm.push_back(int64_t(argmax(ll_norm)) == d.gold ? 1.0 : 0.0);
    }
  }
  auto mean = [](const std::vector<double>& v) {
    double t = 0;
    for (double x : v) t += x;
    return t / double(v.size());
  };
  s.acc = mean(acc);
  s.acc_stderr = mean_stderr(acc);
  if (info.acc_norm) {
    s.acc_norm = mean(acc_norm);
    s.acc_norm_stderr = mean_stderr(acc_norm);
  }
  if (info.kind == TaskKind::loglikelihood) s.ppl = std::exp(-mean(lls));  // lm-eval "perplexity" aggregation
  s.table.add_i64("doc", col_doc).add_i64("choice", col_choice).add_i64("gold", col_gold).add_f64("loglik", col_ll)
      .add_i32("greedy", col_greedy).add_i64("tokens", col_tokens).add_i64("chars", col_chars).add_i64("bytes", col_bytes);
  return s;
}

std::vector<Metric> ZeroShotEvaluator::evaluate(const EvalContext& context) {
  const auto& o = options_;
  const TaskInfo& info = task_info(o.task);
  ZeroShotScores s = score(context);
  std::map<std::string, std::string> record = {
      {"harness", "abq native loglikelihood, lm-eval 0.4 request formation and metrics"},
      {"task", o.task},
      {"dataset.file_sha256", sha256_file(o.data)},
      {"subset", o.limit == 0 ? "all" : o.sample_seed >= 0 ? cat("random.sample seed=", o.sample_seed, " k=", o.limit)
                                                           : cat("first ", o.limit)},
      {"num_fewshot", "0"},
      {"prompt_template", info.prompt},
      {"target_delimiter", " "},
      {"add_bos", o.add_bos ? "true" : "false"},
      {"max_length", std::to_string(o.max_length)},
      {"batch_size", std::to_string(o.batch_size)},
      {"requests_sha256", requests_sha256_},
      {"model_dtype", std::string(c10::toString(context.model.dtype()))},
      {"quant_state", context.quant_state},
      {"tokenizer", context.tokenizer.name() + ":" + context.tokenizer_sha256},
  };
  auto with_metric = [&](const std::string& metric) {
    auto r = record;
    r["metric"] = metric;
    return zero_shot_protocol_id(o.task, metric, r);
  };
  std::vector<Metric> out;
  if (info.kind == TaskKind::loglikelihood) {
    out.push_back({"acc", o.task, with_metric("greedy_match"), s.acc, s.acc_stderr, s.n});
    out.push_back({"ppl", o.task, with_metric("ppl"), s.ppl, NAN, s.n});
  } else {
    out.push_back({"acc", o.task, with_metric(info.kind == TaskKind::multiple_input ? "acc_partial" : "acc"), s.acc,
                   s.acc_stderr, s.n});
    if (info.acc_norm) out.push_back({"acc_norm", o.task, with_metric("acc_norm_char"), s.acc_norm, s.acc_norm_stderr, s.n});
  }
  tables_.clear();
  tables_["zs_" + o.task] = std::move(s.table);
  return out;
}

const config::OptionSet<ZeroShotOptions>& zero_shot_options() {
  using config::Schema;
  using O = ZeroShotOptions;
  static const auto set =
      config::OptionSet<O>()
          .field("task", &O::task, Schema::enumeration(task_names()).required().doc("lm-eval task, formed as lm-eval 0.4 forms it (README.md)"))
          .field("data", &O::data, Schema::string().required().doc("the task's file under data/eval (README.md lists which)"))
          .field("labels", &O::labels, Schema::string().optional().doc("piqa: labels file (default: <data stem>-labels.lst)"))
          .field("limit", &O::limit, Schema::integer().range(0, 1 << 30).doc("score only N documents; 0 = all"))
          .field("sample_seed", &O::sample_seed, Schema::integer().range(-1, int64_t(1) << 62).doc(
                     "-1: the first `limit` documents (lm-eval --limit); >= 0: random.sample(range(n), limit) with this seed"))
          .field("batch_size", &O::batch_size, Schema::integer().range(1, 4096).doc("requests per forward (length-sorted, right-padded)"))
          .field("max_length", &O::max_length, Schema::integer().range(2, 1 << 20).doc("inputs keep their last max_length tokens"))
          .field("add_bos", &O::add_bos, Schema::boolean().doc("BOS before every request (lm-eval add_bos_token; False for LLaMA)"));
  return set;
}

}  // namespace abq::evaluators

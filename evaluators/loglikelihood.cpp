#include "evaluators/loglikelihood.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "framework/core/error.h"
#include "evaluators/token_logprobs.h"
#include "framework/core/progress.h"
#include "framework/model/llama_model.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::evaluators {

TokenRequest encode_request(const tokenize::Tokenizer& tokenizer, const std::string& context,
                            const std::string& continuation, bool add_bos) {
  TokenRequest r;
  if (context.empty()) {
    // lm-eval: context_enc = [prefix_token_id] (BOS, else EOT), continuation encoded alone
    int64_t prefix = tokenizer.bos_id() >= 0 ? tokenizer.bos_id() : tokenizer.eos_id();
    if (prefix < 0) throw Error("loglikelihood: empty context needs a tokenizer with BOS or EOS");
    r.context = {prefix};
    r.continuation = tokenizer.encode(continuation, add_bos);
  } else {
    size_t keep = context.size();
    while (keep > 0 && (context[keep - 1] == ' ' || context[keep - 1] == '\t' || context[keep - 1] == '\n' ||
                        context[keep - 1] == '\r' || context[keep - 1] == '\v' || context[keep - 1] == '\f'))
      --keep;  // context.rstrip(): the spaces go with the continuation
    std::string ctx = context.substr(0, keep);
    std::string cont = context.substr(keep) + continuation;
    std::vector<int64_t> whole = tokenizer.encode(ctx + cont, add_bos);
    r.context = tokenizer.encode(ctx, add_bos);
    const size_t n = std::min(r.context.size(), whole.size());
    r.continuation.assign(whole.begin() + int64_t(n), whole.end());
    // lm-eval keeps the separately encoded context even if the joint encoding merged across the
    // boundary: the model input is context_enc + continuation_enc.
  }
  if (r.continuation.empty())
    throw Error(cat("loglikelihood: continuation '", continuation, "' encodes to no tokens after context '",
                    context.substr(0, 60), "'"));
  return r;
}

std::vector<LoglikelihoodResult> score_continuations(const model::LlamaModel& model,
                                                     const std::vector<torch::Tensor>& hiddens,
                                                     const std::vector<const std::vector<int64_t>*>& continuations) {
  ABQ_ASSERT(hiddens.size() == continuations.size(), "score_continuations: one hidden block per continuation");
  std::vector<LoglikelihoodResult> out(hiddens.size());
  if (hiddens.empty()) return out;
  std::vector<int64_t> targets;
  for (size_t i = 0; i < hiddens.size(); ++i) {
    ABQ_ASSERT(hiddens[i].dim() == 2 && hiddens[i].size(0) == int64_t(continuations[i]->size()),
               "score_continuations: need one hidden row per continuation token");
    targets.insert(targets.end(), continuations[i]->begin(), continuations[i]->end());
  }
  // Rows in slices of 256: [256, V] fp32 logits at a time (50 MB at a 49k vocabulary).
  const auto all_hidden = torch::cat(hiddens, 0);  // [sum m, C]
  const auto all_targets = torch::tensor(targets, torch::kInt64).to(all_hidden.device());
  std::vector<torch::Tensor> logprob_slices, hit_slices;
  for (int64_t start = 0; start < all_hidden.size(0); start += 256) {
    const int64_t stop = std::min<int64_t>(start + 256, all_hidden.size(0));
    auto logits = model.lm_head(all_hidden.slice(0, start, stop));
    auto target = all_targets.slice(0, start, stop);
    logprob_slices.push_back(target_logprobs(logits, target));
    hit_slices.push_back(logits.argmax(-1).eq(target).to(torch::kCPU, torch::kInt64));
  }
  const auto logprobs = torch::cat(logprob_slices).contiguous();  // [sum m] fp64
  const auto hits = torch::cat(hit_slices).contiguous();
  const double* lp = logprobs.data_ptr<double>();
  const int64_t* hit = hits.data_ptr<int64_t>();
  size_t row = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t m = continuations[i]->size();
    auto& r = out[i];
    r.tokens = int64_t(m);
    r.greedy = true;
    for (size_t j = row; j < row + m; ++j) {
      r.logprob += lp[j];
      r.greedy = r.greedy && hit[j] != 0;
    }
    row += m;
    if (!std::isfinite(r.logprob))
      throw Error(cat("loglikelihood: log-likelihood ", r.logprob, " for a continuation of ", m,
                      " tokens (the model's logits are not finite)"));
  }
  return out;
}

std::vector<LoglikelihoodResult> score_requests(const model::LlamaModel& model, const std::vector<TokenRequest>& requests,
                                                int64_t batch_size, int64_t max_length) {
  torch::NoGradGuard no_grad;
  const size_t n = requests.size();
  std::vector<LoglikelihoodResult> out(n);
  // Model input per request: (context + continuation)[-(max_length + 1):][:-1]
  std::vector<std::vector<int64_t>> inputs(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& r = requests[i];
    if (int64_t(r.continuation.size()) > max_length)
      throw Error(cat("loglikelihood: continuation of ", r.continuation.size(), " tokens exceeds max_length ", max_length));
    std::vector<int64_t> all = r.context;
    all.insert(all.end(), r.continuation.begin(), r.continuation.end());
    size_t from = all.size() > size_t(max_length + 1) ? all.size() - size_t(max_length + 1) : 0;
    inputs[i].assign(all.begin() + int64_t(from), all.end() - 1);
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const size_t la = inputs[a].size() + 1, lb = inputs[b].size() + 1;
    if (la != lb) return la > lb;  // lm-eval: longest first (so an OOM happens at once)
    return false;
  });
  Progress progress("loglikelihood", int64_t(n), "req");
  const auto device = model.device();
  for (size_t first = 0; first < n; first += size_t(batch_size)) {
    const size_t last = std::min(n, first + size_t(batch_size));
    const int64_t B = int64_t(last - first);
    int64_t T = 0;
    for (size_t k = first; k < last; ++k) T = std::max<int64_t>(T, int64_t(inputs[order[k]].size()));
    auto tokens = torch::zeros({B, T}, torch::kInt64);  // right padding with id 0
    for (size_t k = first; k < last; ++k) {
      const auto& in = inputs[order[k]];
      std::copy(in.begin(), in.end(), tokens[int64_t(k - first)].data_ptr<int64_t>());
    }
    auto hidden = model.final_hidden(tokens.to(device));  // [B, T, C]
    std::vector<torch::Tensor> rows;
    std::vector<const std::vector<int64_t>*> conts;
    for (size_t k = first; k < last; ++k) {
      const size_t i = order[k];
      const auto& cont = requests[i].continuation;
      const int64_t len = int64_t(inputs[i].size()), m = int64_t(cont.size());
      rows.push_back(hidden[int64_t(k - first)].slice(0, len - m, len));  // positions len-m .. len-1 predict it
      conts.push_back(&cont);
    }
    auto scores = score_continuations(model, rows, conts);
    for (size_t k = first; k < last; ++k) out[order[k]] = scores[k - first];
    progress.advance(B);
  }
  progress.finish();
  return out;
}

}  // namespace abq::evaluators

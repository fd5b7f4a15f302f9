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

LoglikelihoodResult score_continuation(const model::LlamaModel& model, const torch::Tensor& hidden,
                                       const std::vector<int64_t>& continuation) {
  ABQ_ASSERT(hidden.dim() == 2 && hidden.size(0) == int64_t(continuation.size()),
             "score_continuation: need one hidden row per continuation token");
  auto logits = model.lm_head(hidden.unsqueeze(0)).squeeze(0);
  auto target = torch::tensor(continuation, torch::kInt64).to(logits.device());
  LoglikelihoodResult r;
  r.logprob = target_logprobs(logits, target).sum().item<double>();
  if (!std::isfinite(r.logprob))
    throw Error(cat("loglikelihood: log-likelihood ", r.logprob, " for a continuation of ", continuation.size(),
                    " tokens (the model's logits are not finite)"));
  r.greedy = logits.argmax(-1).eq(target).all().item<bool>();
  r.tokens = int64_t(continuation.size());
  return r;
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
    for (size_t k = first; k < last; ++k) {
      const size_t i = order[k];
      const auto& cont = requests[i].continuation;
      const int64_t len = int64_t(inputs[i].size()), m = int64_t(cont.size());
      // positions len-m .. len-1 predict the continuation tokens
      out[i] = score_continuation(model, hidden[int64_t(k - first)].slice(0, len - m, len), cont);
    }
    progress.advance(B);
  }
  progress.finish();
  return out;
}

}  // namespace abq::evaluators

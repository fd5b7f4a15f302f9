#include "evaluators/shared_context.h"

#include <algorithm>
#include <map>

#include "framework/core/error.h"
#include "framework/core/progress.h"
#include "framework/model/llama_model.h"

namespace abq::evaluators {
namespace {

using Group = std::vector<size_t>;  // request indices sharing one context

// Right-pads rows with id 0 into [B, T] (T >= 1).
torch::Tensor padded(const std::vector<std::vector<int64_t>>& rows) {
  size_t width = 1;
  for (const auto& r : rows) width = std::max(width, r.size());
  auto t = torch::zeros({int64_t(rows.size()), int64_t(width)}, torch::kInt64);
  for (size_t b = 0; b < rows.size(); ++b)
    std::copy(rows[b].begin(), rows[b].end(), t[int64_t(b)].data_ptr<int64_t>());
  return t;
}

// Splits requests into groups that reuse their context and the rest (scored whole).
void partition(const std::vector<TokenRequest>& requests, int64_t max_length, std::vector<Group>& shared,
               std::vector<size_t>& alone) {
  std::map<std::vector<int64_t>, size_t> group_of;
  std::vector<Group> groups;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto [it, fresh] = group_of.emplace(requests[i].context, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  for (auto& g : groups) {
    bool fits = g.size() >= 2;
    for (size_t i : g)  // truncation would cut the context differently per choice
      fits = fits && int64_t(requests[i].context.size() + requests[i].continuation.size()) <= max_length + 1;
    if (fits) {
      shared.push_back(std::move(g));
    } else {
      alone.insert(alone.end(), g.begin(), g.end());
    }
  }
  // Length buckets: the continuation chunk ([choices, longest continuation]) costs most, so groups
  // are sorted by their longest continuation, then by context length (the prefill's width).
  auto longest = [&](const Group& g) {
    size_t n = 0;
    for (size_t i : g) n = std::max(n, requests[i].continuation.size());
    return n;
  };
  std::stable_sort(shared.begin(), shared.end(), [&](const Group& a, const Group& b) {
    const size_t la = longest(a), lb = longest(b);
    if (la != lb) return la > lb;
    return requests[a.front()].context.size() > requests[b.front()].context.size();
  });
}

// One batch: the groups' contexts in one prefill, then all their continuations in one chunk.
void score_batch(const model::LlamaModel& model, const std::vector<TokenRequest>& requests,
                 const std::vector<Group>& groups, std::vector<LoglikelihoodResult>& out) {
  std::vector<std::vector<int64_t>> contexts, chunks;
  std::vector<int64_t> lengths, prefix_index;
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& ctx = requests[groups[g].front()].context;
    contexts.push_back(ctx);
    lengths.push_back(int64_t(ctx.size()));
    for (size_t i : groups[g]) {
      const auto& cont = requests[i].continuation;
      chunks.emplace_back(cont.begin(), cont.end() - 1);  // the last token is only predicted
      prefix_index.push_back(int64_t(g));
    }
  }
  const auto device = model.device();
  torch::Tensor prefix_hidden, chunk_hidden;                                     // [G, P, C], [R, Tc, C]
  const auto cache = model.prefill_hidden(padded(contexts).to(device), lengths, &prefix_hidden);
  size_t longest = 0;
  for (const auto& c : chunks) longest = std::max(longest, c.size());
  if (longest > 0) chunk_hidden = model.final_hidden_with_prefix(cache, padded(chunks).to(device), prefix_index);
  size_t row = 0;
  std::vector<torch::Tensor> rows;
  std::vector<const std::vector<int64_t>*> conts;
  std::vector<size_t> index;
  for (size_t g = 0; g < groups.size(); ++g)
    for (size_t i : groups[g]) {
      const int64_t n = lengths[g], m = int64_t(requests[i].continuation.size());
      auto hidden = prefix_hidden[int64_t(g)].slice(0, n - 1, n);               // predicts continuation[0]
      if (m > 1) hidden = torch::cat({hidden, chunk_hidden[int64_t(row)].slice(0, 0, m - 1)}, 0);
      rows.push_back(hidden);
      conts.push_back(&requests[i].continuation);
      index.push_back(i);
      ++row;
    }
  auto scores = score_continuations(model, rows, conts);
  for (size_t k = 0; k < index.size(); ++k) out[index[k]] = scores[k];
}

}  // namespace

std::vector<LoglikelihoodResult> score_requests_sharing_context(const model::LlamaModel& model,
                                                                const std::vector<TokenRequest>& requests,
                                                                int64_t batch_size, int64_t max_length) {
  torch::NoGradGuard no_grad;
  std::vector<LoglikelihoodResult> out(requests.size());
  std::vector<Group> shared;
  std::vector<size_t> alone;
  partition(requests, max_length, shared, alone);
  if (!alone.empty()) {
    std::vector<TokenRequest> rest;
    for (size_t i : alone) rest.push_back(requests[i]);
    auto scored = score_requests(model, rest, batch_size, max_length);
    for (size_t k = 0; k < alone.size(); ++k) out[alone[k]] = scored[k];
  }
  if (shared.empty()) return out;
  Progress progress("loglikelihood (shared context)", int64_t(requests.size() - alone.size()), "req");
  for (size_t first = 0; first < shared.size();) {
    std::vector<Group> batch = {shared[first]};
    size_t rows = shared[first].size();
    for (++first; first < shared.size() && rows + shared[first].size() <= size_t(batch_size); ++first) {
      rows += shared[first].size();
      batch.push_back(shared[first]);
    }
    score_batch(model, requests, batch, out);
    progress.advance(int64_t(rows));
  }
  progress.finish();
  return out;
}

}  // namespace abq::evaluators

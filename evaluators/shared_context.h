// Scoring requests that share their context (every choice of a multiple-choice question) with one
// forward of the context: LlamaModel::prefill runs the contexts of a batch of questions once, then
// forward_with_prefix runs all their choices against the cached keys / values (kv_cache.h).
//
// With context c (n tokens) and continuation x (m tokens), the full path feeds (c + x)[:-1] and
// reads positions n-1 .. n+m-2. Here position n-1 comes from the prefill (its last context token)
// and positions n .. n+m-2 from the continuation chunk x[:-1], so a one-token continuation needs
// no chunk at all. Results equal score_requests' when every activation hook is token-local; the
// caller decides (EvalContext::prefix_reuse).
#pragma once

#include <cstdint>
#include <vector>

#include "evaluators/loglikelihood.h"

namespace abq::evaluators {

/// score_requests with context reuse. Requests are grouped by identical context tokens; a group of
/// two or more whose inputs all fit max_length untruncated is scored from one prefill, anything
/// else (WinoGrande's one context per choice, LAMBADA's single request, truncated inputs) by
/// score_requests. Groups are sorted by descending longest continuation, then context length, and
/// packed into batches of at most `batch_size` continuations (one group at least). Results in
/// request order.
std::vector<LoglikelihoodResult> score_requests_sharing_context(const model::LlamaModel& model,
                                                                const std::vector<TokenRequest>& requests,
                                                                int64_t batch_size, int64_t max_length);

}  // namespace abq::evaluators

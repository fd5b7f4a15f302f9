// lm-evaluation-harness's rolling windows for `loglikelihood_rolling` (lm_eval/utils.py
// get_rolling_token_windows + make_disjoint_window, as models/huggingface.py calls them with
// context_len = 1): every token of a document is predicted exactly once.
//   window 0:  input [prefix] + tokens[0 : f-1], predicting tokens[0 : f], f = min(L, M);
//   then, while tokens remain: the next n = min(L - done, M - context_len + 1) tokens,
//   predicted from input tokens[end - M - 1 : end - 1] (end = done + n), i.e. a full M-token input
//   whose last n positions are scored (the last window's input overlaps the previous one).
// make_disjoint_window turns each (input, predicted) pair into a (context, continuation) request
// with context = input[: len(input) - (n - 1)], which lm-eval's _loglikelihood_tokens (here:
// loglikelihood.h score_requests with max_length M) scores exactly on that input.
#pragma once

#include <cstdint>
#include <vector>

#include "evaluators/loglikelihood.h"

namespace abq::evaluators {

/// The disjoint (context, continuation) requests of one document of `tokens`; empty for an empty
/// document. `prefix_token` conditions the first token (lm-eval: BOS, else EOS). Requires
/// 1 <= context_len <= max_length.
std::vector<TokenRequest> rolling_token_windows(const std::vector<int64_t>& tokens, int64_t prefix_token,
                                                int64_t max_length, int64_t context_len = 1);

}  // namespace abq::evaluators

#include "evaluators/rolling_windows.h"

#include <algorithm>

#include "framework/core/error.h"

namespace abq::evaluators {
namespace {

// make_disjoint_window: the context keeps input[: len(input) - (len(pred) - 1)].
TokenRequest disjoint(std::vector<int64_t> input, std::vector<int64_t> predicted) {
  input.resize(input.size() - (predicted.size() - 1));
  return TokenRequest{std::move(input), std::move(predicted)};
}

}  // namespace

std::vector<TokenRequest> rolling_token_windows(const std::vector<int64_t>& tokens, int64_t prefix_token,
                                                int64_t max_length, int64_t context_len) {
  ABQ_ASSERT(1 <= context_len && context_len <= max_length, "rolling_token_windows: need 1 <= context_len <= max_length");
  std::vector<TokenRequest> out;
  if (tokens.empty()) return out;
  const auto L = int64_t(tokens.size());
  const auto at = [&](int64_t i) { return tokens.begin() + i; };
  const int64_t pred_len = max_length - context_len + 1;
  const int64_t first = std::min(max_length, L);
  std::vector<int64_t> input = {prefix_token};
  input.insert(input.end(), at(0), at(first - 1));
  out.push_back(disjoint(std::move(input), std::vector<int64_t>(at(0), at(first))));
  for (int64_t done = first; done < L;) {
    const int64_t n = std::min(L - done, pred_len);
    const int64_t end = done + n;
    // end - M - 1 >= 0 here: done >= M once a second window exists
    out.push_back(disjoint(std::vector<int64_t>(at(end - max_length - 1), at(end - 1)),
                           std::vector<int64_t>(at(end - n), at(end))));
    done = end;
  }
  return out;
}

}  // namespace abq::evaluators

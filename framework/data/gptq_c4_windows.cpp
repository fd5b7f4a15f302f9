#include "framework/data/gptq_c4_windows.h"

#include "framework/core/error.h"
#include "framework/data/python_random.h"

namespace abq::data {

std::vector<SampledWindow> gptq_c4_windows(int64_t n_docs, const std::function<std::vector<int64_t>(int64_t)>& encode,
                                           int64_t count, int64_t seqlen, uint64_t seed, int64_t max_draws) {
  if (n_docs <= 0) throw Error("c4 sampler: the document list is empty");
  PythonRandom rng(seed);  // random.seed(0) in get_c4's validation part
  std::vector<SampledWindow> windows;
  int64_t draws = 0;
  for (int64_t w = 0; w < count; ++w) {
    int64_t i = 0;
    std::vector<int64_t> ids;
    while (true) {
      if (++draws > max_draws)
        throw Error(cat("c4 sampler: no document of >= ", seqlen, " tokens after ", max_draws,
                        " draws (seqlen too long for this corpus?)"));
      i = rng.randint(0, n_docs - 1);
      ids = encode(i);
      if (int64_t(ids.size()) >= seqlen) break;
    }
    const int64_t hi = int64_t(ids.size()) - seqlen - 1;
    if (hi < 0)
      throw Error(cat("c4 sampler: document ", i, " has exactly seqlen = ", seqlen,
                      " tokens, so randint(0, len - seqlen - 1) is empty (the reference raises here too)"));
    SampledWindow sw;
    sw.doc = i;
    sw.offset = rng.randint(0, hi);
    sw.tokens.assign(ids.begin() + sw.offset, ids.begin() + sw.offset + seqlen);
    windows.push_back(std::move(sw));
  }
  return windows;
}

}  // namespace abq::data

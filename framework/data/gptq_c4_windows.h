// GPTQ's old C4 window sampler (IST-DASLab/gptq datautils.py get_c4): documents drawn with
// CPython's random until one is long enough, then a random offset in it. Evaluation uses its
// validation part (seed 0, 256 windows; the `gptq.c4` protocol), calibration its train part
// (calibration.source: c4, the calibration seed).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace abq::data {

struct SampledWindow {
  int64_t doc = 0;     // document index i
  int64_t offset = 0;  // first token o; the window is tokens [o, o + seqlen) of that document
  std::vector<int64_t> tokens;
};

/// GPTQ's old C4 evaluation sampler: random.seed(seed); `count` times: draw
/// i = randint(0, n_docs - 1) and encode doc i until it has >= seqlen tokens (each rejection costs
/// one draw), then o = randint(0, len - seqlen - 1). A document of exactly seqlen tokens makes that
/// range empty and throws, as CPython's randint does. `encode(i)` gives the ids of document i
/// (called once per draw; cache inside it when encoding is expensive). `max_draws` guards against
/// a corpus without long documents.
std::vector<SampledWindow> gptq_c4_windows(int64_t n_docs, const std::function<std::vector<int64_t>(int64_t)>& encode,
                                           int64_t count, int64_t seqlen, uint64_t seed,
                                           int64_t max_draws = 10'000'000);

}  // namespace abq::data

// Token windows cut from one token stream: the non-overlapping evaluation windows of the GPTQ
// perplexity protocol, and the seeded random calibration windows of GPTQ / OmniQuant / ABQ-LLM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace abq::data {

using TokenWindow = std::vector<int64_t>;

/// Windows [w*T, (w+1)*T) for w < floor(len/T); the tail is dropped (GPTQ convention).
/// max_windows > 0 keeps only the first max_windows.
std::vector<TokenWindow> nonoverlapping_windows(const std::vector<int64_t>& stream, int64_t seqlen,
                                                int64_t max_windows = 0);

/// `count` windows of `seqlen` tokens at offsets i = randint(0, len - seqlen - 1) drawn from
/// Python's random seeded with `seed`, as the reference calibration loaders do.
/// Throws abq::Error when the stream is shorter than seqlen + 1 tokens.
std::vector<TokenWindow> random_windows(const std::vector<int64_t>& stream, int64_t count, int64_t seqlen,
                                        uint64_t seed);

/// Reads a whole UTF-8 text file; throws abq::Error naming the path when it cannot.
std::string read_text_file(const std::string& path);

}  // namespace abq::data

// Calibration windows as the reference loaders draw them (GPTQ / OmniQuant / ABQ-LLM
// datautils.py get_loaders; spec abq-llm-algorithm.md §2, evaluation-protocols.md §3):
//   text       the raw file, encoded whole (with BOS), seeded random offsets;
//   wikitext2  HF `wikitext` rows of a wiki.*.raw file (wiki.train.raw for calibration) joined
//              with "\n\n", encoded whole, random offsets i = randint(0, len - T - 1);
//   ptb        HF `ptb_text_only` rows of a ptb.*.txt file (ptb.train.txt) joined with "\n\n";
//   c4         a C4 JSON-lines file (en/c4-train.00000-of-01024.json.gz): GPTQ's get_c4 document
//              sampler, every document encoded on its own with BOS.
// Offsets come from CPython's random seeded with the calibration seed (framework/data).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/tokenize/tokenizer.h"

namespace abq::pipeline {

/// The calibration.source names, in schema order.
const std::vector<std::string>& calibration_sources();

/// `samples` windows of `seqlen` tokens from the file at `path` read as `source`. Throws
/// abq::Error naming the file when it is too short or unreadable, or the source is unknown.
std::vector<std::vector<int64_t>> draw_calibration_windows(const std::string& source, const std::string& path,
                                                           const tokenize::Tokenizer& tokenizer, int64_t samples,
                                                           int64_t seqlen, uint64_t seed);

}  // namespace abq::pipeline

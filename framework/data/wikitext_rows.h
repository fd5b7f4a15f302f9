// WikiText-2 as the Hugging Face `wikitext` loader yields it (wikitext-2-raw-v1): the rows of a
// wiki.*.raw file. GPTQ / OmniQuant / ABQ-LLM get_wikitext2 join them with "\n\n"
// (python_text.h): the test split for perplexity (evaluation-protocols.md §3), the train split
// for calibration.
#pragma once

#include <string>
#include <vector>

namespace abq::data {

/// HF `wikitext` rows of a wiki.*.raw file: one row per line, a whitespace-only line is the empty
/// row "", every other line keeps its trailing "\n" (the HF loading script's rule).
std::vector<std::string> wikitext_rows(const std::string& path);

}  // namespace abq::data

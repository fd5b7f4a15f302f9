// Penn Treebank as the Hugging Face `ptb_text_only` loader yields it: the rows of a ptb.*.txt
// file. GPTQ get_ptb joins them with "\n\n" (validation split for perplexity, train split for
// calibration), get_ptb_new with " " (test split); the joins are python_join (python_text.h).
#pragma once

#include <string>
#include <vector>

namespace abq::data {

/// HF `ptb_text_only` rows of a ptb.*.txt file: line.strip() of every line.
std::vector<std::string> ptb_rows(const std::string& path);

}  // namespace abq::data

// The text behind each perplexity protocol (evaluation-protocols.md §3), read from the files in
// data/eval: row lists as the Hugging Face loaders yield them, their GPTQ joins, C4 documents,
// and GPTQ's old C4 window sampler (IST-DASLab/gptq datautils.py get_c4, validation part).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace abq::evaluators {

/// HF `wikitext` rows of a wiki.*.raw file: one row per line, a whitespace-only line is the empty
/// row "", every other line keeps its trailing "\n" (the HF loading script's rule).
std::vector<std::string> wikitext_rows(const std::string& path);

/// HF `ptb_text_only` rows of a ptb.*.txt file: line.strip() of every line.
std::vector<std::string> ptb_rows(const std::string& path);

/// The "text" field of the first `max_docs` records (0: all) of a C4 JSON-lines file, plain or
/// gzip (en/c4-validation.00000-of-00008.json.gz as downloaded), in file order.
std::vector<std::string> c4_documents(const std::string& path, int64_t max_docs = 0);

/// Python's sep.join(rows).
std::string python_join(const std::vector<std::string>& rows, const std::string& sep);

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

}  // namespace abq::evaluators

#include "framework/pipeline/calibration_data.h"

#include <unordered_map>

#include "framework/core/error.h"
#include "framework/data/c4_json.h"
#include "framework/data/gptq_c4_windows.h"
#include "framework/data/ptb_rows.h"
#include "framework/data/python_text.h"
#include "framework/data/token_windows.h"
#include "framework/data/wikitext_rows.h"

namespace abq::pipeline {
namespace {

// The whole stream of one joined text, then the reference's random offsets.
std::vector<std::vector<int64_t>> stream_windows(const std::string& text, const tokenize::Tokenizer& tokenizer,
                                                 int64_t samples, int64_t seqlen, uint64_t seed) {
  return data::random_windows(tokenizer.encode(text, /*add_bos=*/true), samples, seqlen, seed);
}

// get_c4: documents drawn with randint until one has >= seqlen tokens, then an offset in it.
std::vector<std::vector<int64_t>> c4_windows(const std::string& path, const tokenize::Tokenizer& tokenizer,
                                             int64_t samples, int64_t seqlen, uint64_t seed) {
  const auto docs = data::c4_documents(path);
  if (docs.empty()) throw Error(cat("calibration: '", path, "' holds no C4 documents"));
  std::unordered_map<int64_t, std::vector<int64_t>> cache;
  auto encode = [&](int64_t i) -> std::vector<int64_t> {
    auto it = cache.find(i);
    if (it == cache.end()) it = cache.emplace(i, tokenizer.encode(docs[size_t(i)], /*add_bos=*/true)).first;
    return it->second;
  };
  std::vector<std::vector<int64_t>> out;
  for (auto& w : data::gptq_c4_windows(int64_t(docs.size()), encode, samples, seqlen, seed))
    out.push_back(std::move(w.tokens));
  return out;
}

}  // namespace

const std::vector<std::string>& calibration_sources() {
  static const std::vector<std::string> names = {"text", "wikitext2", "ptb", "c4"};
  return names;
}

std::vector<std::vector<int64_t>> draw_calibration_windows(const std::string& source, const std::string& path,
                                                           const tokenize::Tokenizer& tokenizer, int64_t samples,
                                                           int64_t seqlen, uint64_t seed) {
  try {
    if (source == "text") return stream_windows(data::read_text_file(path), tokenizer, samples, seqlen, seed);
    if (source == "wikitext2")
      return stream_windows(data::python_join(data::wikitext_rows(path), "\n\n"), tokenizer, samples,
                            seqlen, seed);
    if (source == "ptb")
      return stream_windows(data::python_join(data::ptb_rows(path), "\n\n"), tokenizer, samples, seqlen,
                            seed);
    if (source == "c4") return c4_windows(path, tokenizer, samples, seqlen, seed);
  } catch (Error& e) {
    e.with_context(cat("while drawing calibration windows (source ", source, ") from '", path, "'"));
    throw;
  }
  throw Error(cat("calibration.source '", source, "' is not one of text, wikitext2, ptb, c4"));
}

}  // namespace abq::pipeline

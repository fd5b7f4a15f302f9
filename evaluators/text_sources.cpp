#include "evaluators/text_sources.h"

#include <zlib.h>

#include <nlohmann/json.hpp>

#include "framework/core/error.h"
#include "framework/data/python_random.h"
#include "framework/data/token_windows.h"

namespace abq::evaluators {
namespace {

// Python's str.isspace() over ASCII whitespace; the datasets' lines are ASCII-whitespace delimited.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// Lines with their trailing "\n" (Python's file iteration); a last line without "\n" is kept.
std::vector<std::string> lines_keep_newline(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t stop = nl == std::string::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, stop - start));
    start = stop;
  }
  return lines;
}

// Whole file through zlib: gzread passes plain files through unchanged.
std::string read_maybe_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error(cat("cannot open '", path, "'"));
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, size_t(n));
  int err = 0;
  const char* msg = gzerror(f, &err);
  std::string message = msg ? msg : "";
  gzclose(f);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END)) throw Error(cat("'", path, "': read error: ", message));
  return out;
}

}  // namespace

std::vector<std::string> wikitext_rows(const std::string& path) {
  std::vector<std::string> rows;
  for (auto& line : lines_keep_newline(data::read_text_file(path)))
    rows.push_back(strip(line).empty() ? std::string() : line);
  return rows;
}

std::vector<std::string> ptb_rows(const std::string& path) {
  std::vector<std::string> rows;
  for (auto& line : lines_keep_newline(data::read_text_file(path))) rows.push_back(strip(line));
  return rows;
}

std::vector<std::string> c4_documents(const std::string& path, int64_t max_docs) {
  std::string text = read_maybe_gzip(path);
  std::vector<std::string> docs;
  size_t start = 0;
  int64_t line_no = 0;
  while (start < text.size() && (max_docs <= 0 || int64_t(docs.size()) < max_docs)) {
    size_t nl = text.find('\n', start);
    size_t stop = nl == std::string::npos ? text.size() : nl;
    std::string line = text.substr(start, stop - start);
    start = stop + 1;
    ++line_no;
    if (strip(line).empty()) continue;
    try {
      auto j = nlohmann::json::parse(line);
      if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
        throw Error("expected an object with a string field \"text\"");
      docs.push_back(j["text"].get<std::string>());
    } catch (const nlohmann::json::exception& e) {
      throw Error(cat("'", path, "' line ", line_no, ": not valid JSON (", e.what(), ")"));
    } catch (Error& e) {
      throw e.with_context(cat("while reading '", path, "' line ", line_no));
    }
  }
  return docs;
}

std::string python_join(const std::vector<std::string>& rows, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out += sep;
    out += rows[i];
  }
  return out;
}

std::vector<SampledWindow> gptq_c4_windows(int64_t n_docs, const std::function<std::vector<int64_t>(int64_t)>& encode,
                                           int64_t count, int64_t seqlen, uint64_t seed, int64_t max_draws) {
  if (n_docs <= 0) throw Error("c4 sampler: the document list is empty");
  data::PythonRandom rng(seed);  // random.seed(0) in get_c4's validation part
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

}  // namespace abq::evaluators

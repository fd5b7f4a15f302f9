#include "framework/data/c4_json.h"

#include <zlib.h>

#include <nlohmann/json.hpp>

#include "framework/core/error.h"
#include "framework/data/python_text.h"

namespace abq::data {
namespace {

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
    if (python_strip(line).empty()) continue;
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

}  // namespace abq::data

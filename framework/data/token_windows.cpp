#include "framework/data/token_windows.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "framework/core/error.h"
#include "framework/data/python_random.h"

namespace abq::data {

std::vector<TokenWindow> nonoverlapping_windows(const std::vector<int64_t>& stream, int64_t seqlen,
                                                int64_t max_windows) {
  if (seqlen < 2) throw Error(cat("seqlen must be at least 2 tokens, got ", seqlen));
  int64_t n = int64_t(stream.size()) / seqlen;
  if (max_windows > 0 && max_windows < n) n = max_windows;
  std::vector<TokenWindow> windows;
  windows.reserve(size_t(n));
  for (int64_t w = 0; w < n; ++w)
    windows.emplace_back(stream.begin() + w * seqlen, stream.begin() + (w + 1) * seqlen);
  return windows;
}

std::vector<TokenWindow> random_windows(const std::vector<int64_t>& stream, int64_t count, int64_t seqlen,
                                        uint64_t seed) {
  const int64_t len = int64_t(stream.size());
  if (len < seqlen + 1)
    throw Error(cat("calibration text has ", len, " tokens; ", seqlen + 1,
                    " are needed for windows of seqlen ", seqlen, " (use a longer text or a smaller seqlen)"));
  PythonRandom rng(seed);
  std::vector<TokenWindow> windows;
  windows.reserve(size_t(count));
  for (int64_t s = 0; s < count; ++s) {
    int64_t i = rng.randint(0, len - seqlen - 1);
    windows.emplace_back(stream.begin() + i, stream.begin() + i + seqlen);
  }
  return windows;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(cat("cannot read text file '", path, "': ", std::strerror(errno)));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace abq::data

#include "tests/unit/layering/include_scan.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <stdexcept>

namespace abq::layering {
namespace fs = std::filesystem;

namespace {

bool is_source(const fs::path& p) {
  static const std::set<std::string> extensions = {".h", ".hpp", ".cuh", ".cpp", ".cc", ".cu"};
  return extensions.count(p.extension().string()) > 0;
}

}  // namespace

std::vector<Include> quoted_includes(const fs::path& root) {
  if (!fs::is_directory(root)) throw std::runtime_error("layering: '" + root.string() + "' is not a directory");
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file() && is_source(entry.path())) files.push_back(entry.path());
  std::sort(files.begin(), files.end());

  // Leading blanks and blanks after '#' are legal preprocessor spelling; a line comment after
  // the include is allowed.
  static const std::regex directive(R"(^\s*#\s*include\s*"([^"]+)\")");
  std::vector<Include> out;
  for (const auto& path : files) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("layering: cannot read '" + path.string() + "'");
    const std::string rel = path.lexically_relative(root.parent_path()).generic_string();
    std::string text;
    int line = 0;
    while (std::getline(in, text)) {
      ++line;
      std::smatch m;
      if (std::regex_search(text, m, directive)) out.push_back({rel, line, m[1].str()});
    }
  }
  return out;
}

std::string describe(const Include& include) {
  return include.file + ":" + std::to_string(include.line) + ": #include \"" + include.target + "\"";
}

}  // namespace abq::layering

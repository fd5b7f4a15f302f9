#include "framework/data/wikitext_rows.h"

#include "framework/data/python_text.h"
#include "framework/data/token_windows.h"

namespace abq::data {

std::vector<std::string> wikitext_rows(const std::string& path) {
  std::vector<std::string> rows;
  for (auto& line : python_lines(read_text_file(path)))
    rows.push_back(python_strip(line).empty() ? std::string() : line);
  return rows;
}

}  // namespace abq::data

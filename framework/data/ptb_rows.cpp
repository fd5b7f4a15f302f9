#include "framework/data/ptb_rows.h"

#include "framework/data/python_text.h"
#include "framework/data/token_windows.h"

namespace abq::data {

std::vector<std::string> ptb_rows(const std::string& path) {
  std::vector<std::string> rows;
  for (auto& line : python_lines(read_text_file(path))) rows.push_back(python_strip(line));
  return rows;
}

}  // namespace abq::data

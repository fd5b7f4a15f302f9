#include "tests/unit/layering/may_use_table.h"

#include <regex>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace abq::layering {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> cells(const std::string& row) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(row.substr(1));  // past the leading '|'
  while (std::getline(in, cell, '|')) out.push_back(trim(cell));
  return out;
}

}  // namespace

MayUse parse_may_use_table(const std::string& readme, const std::set<std::string>& folders) {
  static const std::regex folder_cell(R"(^([a-z_]+)/$)");
  static const std::regex note(R"(\([^)]*\))");
  MayUse table;
  std::istringstream lines(readme);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '|') continue;
    const auto row = cells(line);
    std::smatch m;
    if (row.size() < 3 || !std::regex_match(row[0], m, folder_cell)) continue;
    const std::string folder = m[1].str();
    if (table.count(folder)) throw std::runtime_error("framework/README.md: folder " + folder + "/ has two rows");
    auto& allowed = table[folder];
    const std::string listed = trim(std::regex_replace(row[2], note, ""));
    if (listed == "std only") continue;
    std::istringstream items(listed);
    std::string item;
    while (std::getline(items, item, ',')) {
      item = trim(item);
      if (!folders.count(item) && item != kKernelsEntry)
        throw std::runtime_error("framework/README.md: row " + folder + "/ may use '" + item +
                                 "', which is not a framework folder nor \"kernels\" (list folders by name, or \"std only\")");
      allowed.insert(item);
    }
  }
  if (table.empty()) throw std::runtime_error("framework/README.md: no \"| folder/ | holds | may use |\" rows found");
  return table;
}

}  // namespace abq::layering

// TextTable: aligned plain-text tables for terminal summaries (`abq run`, `abq show`).
#pragma once

#include <string>
#include <vector>

namespace abq {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add_row(std::vector<std::string> row);
  /// Columns left-aligned except those that look numeric in every row, which are right-aligned.
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

/// Fixed-point with `digits` decimals; "nan"/"inf" as such; "-" for an absent value.
std::string format_number(double value, int digits = 3);

}  // namespace abq

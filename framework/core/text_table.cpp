#include "framework/core/text_table.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace abq {
namespace {

bool looks_numeric(const std::string& s) {
  if (s.empty() || s == "-") return true;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}

}  // namespace

void TextTable::add_row(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

std::string TextTable::render() const {
  const size_t n = header_.size();
  std::vector<size_t> width(n);
  std::vector<bool> numeric(n, true);
  for (size_t c = 0; c < n; ++c) width[c] = header_[c].size();
  for (const auto& row : rows_)
    for (size_t c = 0; c < n; ++c) {
      width[c] = std::max(width[c], row[c].size());
      numeric[c] = numeric[c] && looks_numeric(row[c]);
    }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < n; ++c) {
      std::string pad(width[c] - cells[c].size(), ' ');
      out += (c ? "  " : "") + (numeric[c] ? pad + cells[c] : cells[c] + (c + 1 < n ? pad : ""));
    }
    return out + "\n";
  };
  std::string out = line(header_);
  std::string rule;
  for (size_t c = 0; c < n; ++c) rule += (c ? "  " : "") + std::string(width[c], '-');
  out += rule + "\n";
  for (const auto& row : rows_) out += line(row);
  return out;
}

std::string format_number(double value, int digits) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  // Small values (KL, drift) keep three significant digits instead of rounding to zero.
  if (value != 0 && std::fabs(value) < 0.1)
    std::snprintf(buf, sizeof(buf), "%.3g", value);
  else
    std::snprintf(buf, sizeof(buf), "%.*f", digits, value);
  return buf;
}

}  // namespace abq

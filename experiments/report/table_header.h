// What every writer of a laid-out table shares: the header spans (column groups, labels, and the
// paper / ours / delta parts of a compare table), the leading row-header columns and the text of
// a cell at its column's decimals.
#pragma once

#include <string>
#include <vector>

#include "experiments/report/layout.h"

namespace abq::report {

struct Span {
  std::string text;
  size_t first = 0, count = 0;  // LaidTable::columns indices
};

/// Consecutive columns of one group; empty when no column has a group.
std::vector<Span> group_spans(const LaidTable& table);
/// Consecutive columns of one column spec (three in a compare table).
std::vector<Span> label_spans(const LaidTable& table);
/// "paper", "ours", "delta"; "" for a plain value column.
const char* part_name(Part part);
/// {"Setting", "Method"} when rows are grouped by setting, else {"Method", "Setting"}.
std::vector<std::string> leading_headers(const LaidTable& table);
/// The leading cells of a row, in leading_headers order (the group text only on its first row
/// when `first_of_group_only`).
std::vector<std::string> leading_cells(const LaidTable& table, size_t row, bool first_of_group_only);
/// Rows in the group of `row` from it on (1 when it is not the first of its group).
size_t group_size_from(const LaidTable& table, size_t row);
/// The value text of a cell at its column's decimals (delta signed).
std::string cell_text(const LaidTable& table, const LaidRow& row, size_t column);

}  // namespace abq::report

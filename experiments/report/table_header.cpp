#include "experiments/report/table_header.h"

namespace abq::report {

std::vector<Span> group_spans(const LaidTable& table) {
  bool any = false;
  for (const auto& c : table.columns) any = any || !c.spec->group.empty();
  std::vector<Span> spans;
  if (!any) return spans;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const std::string& g = table.columns[i].spec->group;
    if (!spans.empty() && spans.back().text == g) ++spans.back().count;
    else spans.push_back({g, i, 1});
  }
  return spans;
}

std::vector<Span> label_spans(const LaidTable& table) {
  std::vector<Span> spans;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (i > 0 && table.columns[i].spec == table.columns[i - 1].spec) ++spans.back().count;
    else spans.push_back({table.columns[i].spec->label, i, 1});
  }
  return spans;
}

const char* part_name(Part part) {
  switch (part) {
    case Part::paper: return "paper";
    case Part::ours: return "ours";
    case Part::delta: return "delta";
    case Part::value: break;
  }
  return "";
}

std::vector<std::string> leading_headers(const LaidTable& table) {
  if (table.spec->group_by == "setting") return {"Setting", "Method"};
  return {"Method", "Setting"};
}

std::vector<std::string> leading_cells(const LaidTable& table, size_t row, bool first_of_group_only) {
  const LaidRow& r = table.rows[row];
  if (table.spec->group_by != "setting") return {r.label, r.setting};
  const bool first = row == 0 || table.rows[row - 1].group != r.group;
  return {first || !first_of_group_only ? r.group : "", r.label};
}

size_t group_size_from(const LaidTable& table, size_t row) {
  if (row > 0 && table.rows[row - 1].group == table.rows[row].group) return 1;
  size_t n = 1;
  while (row + n < table.rows.size() && table.rows[row + n].group == table.rows[row].group) ++n;
  return n;
}

std::string cell_text(const LaidTable& table, const LaidRow& row, size_t column) {
  const LaidColumn& col = table.columns[column];
  return value_text(row.cells[column], col.spec->decimals, col.part == Part::delta);
}

}  // namespace abq::report

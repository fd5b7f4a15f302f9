#include <cstdio>
#include <sstream>

#include "experiments/report/table_header.h"
#include "experiments/report/writers.h"

namespace abq::report {
namespace {

std::string quoted(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(double v) {
  if (std::isnan(v)) return "";
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

}  // namespace

std::string csv_header() {
  return "table,setting,method,row_source,column_group,column,part,model,metric,dataset,value,stderr,observations,"
         "rank,printed,protocol,notes,origin\n";
}

std::string csv_table(const LaidTable& table) {
  std::ostringstream out;
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < table.columns.size(); ++c) {
      const Cell& cell = row.cells[c];
      if (!cell.present) continue;
      const LaidColumn& col = table.columns[c];
      std::string notes;
      for (int n : cell.notes) notes += (notes.empty() ? "" : "; ") + table.notes[size_t(n - 1)];
      const char* part = col.part == Part::value ? (row.source == Source::ours ? "ours" : "paper") : part_name(col.part);
      out << quoted(table.spec->name) << "," << quoted(row.setting) << "," << quoted(row.method) << ","
          << (row.source == Source::ours ? "ours" : "paper") << "," << quoted(col.spec->group) << ","
          << quoted(col.spec->label) << "," << part << "," << quoted(col.spec->model) << ","
          << quoted(col.spec->metric) << "," << quoted(col.spec->dataset) << "," << number(cell.value) << ","
          << number(cell.stderr_value) << "," << cell.observations << "," << cell.rank << "," << quoted(cell.printed)
          << "," << quoted(cell.protocol) << "," << quoted(notes) << "," << quoted(cell.origin) << "\n";
    }
  }
  return out.str();
}

}  // namespace abq::report

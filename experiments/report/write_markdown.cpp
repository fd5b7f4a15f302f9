#include <sstream>

#include "experiments/report/table_header.h"
#include "experiments/report/writers.h"

namespace abq::report {
namespace {

std::string pipe_escape(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string header_text(const LaidTable& table, size_t c) {
  const LaidColumn& col = table.columns[c];
  std::string text = col.spec->group.empty() ? col.spec->label : col.spec->group + " " + col.spec->label;
  if (col.part == Part::delta) text += " Δ";
  else if (col.part != Part::value) text += std::string(" ") + part_name(col.part);
  return text;
}

std::string marked(const LaidTable& table, const LaidRow& row, size_t c) {
  const Cell& cell = row.cells[c];
  if (!cell.present) return "–";
  std::string text = cell_text(table, row, c);
  if (cell.rank == 1) text = "**" + text + "**";
  if (cell.rank == 2) text = "<u>" + text + "</u>";
  if (!cell.notes.empty()) {
    std::string marks;
    for (int n : cell.notes) marks += (marks.empty() ? "" : ",") + std::to_string(n);
    text += "<sup>" + marks + "</sup>";
  }
  return text;
}

}  // namespace

std::string markdown_table(const LaidTable& table) {
  std::ostringstream out;
  if (!table.spec->caption.empty()) out << "**" << table.spec->caption << "**\n\n";
  const auto heads = leading_headers(table);
  out << "| " << heads[0] << " | " << heads[1] << " |";
  for (size_t c = 0; c < table.columns.size(); ++c) out << " " << pipe_escape(header_text(table, c)) << " |";
  out << "\n|---|---|";
  for (size_t c = 0; c < table.columns.size(); ++c) out << "---:|";
  out << "\n";
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const auto lead = leading_cells(table, r, true);
    out << "| " << pipe_escape(lead[0]) << " | " << pipe_escape(lead[1]) << " |";
    for (size_t c = 0; c < table.columns.size(); ++c) out << " " << marked(table, table.rows[r], c) << " |";
    out << "\n";
  }
  if (!table.notes.empty()) {
    out << "\n";
    for (size_t i = 0; i < table.notes.size(); ++i) out << "<sup>" << i + 1 << "</sup> " << table.notes[i] << "  \n";
  }
  return out.str();
}

}  // namespace abq::report

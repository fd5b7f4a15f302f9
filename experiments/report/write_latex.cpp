#include <sstream>

#include "experiments/report/table_header.h"
#include "experiments/report/writers.h"

namespace abq::report {
namespace {

std::string part_header(Part part) { return part == Part::delta ? "$\\Delta$" : part_name(part); }

std::string marked(const LaidTable& table, const LaidRow& row, size_t column) {
  const Cell& cell = row.cells[column];
  std::string text = latex_escape(cell_text(table, row, column));
  if (!cell.present) return "--";
  if (cell.rank == 1) text = "\\textbf{" + text + "}";
  if (cell.rank == 2) text = "\\underline{" + text + "}";
  if (!cell.notes.empty()) {
    std::string marks;
    for (int n : cell.notes) marks += (marks.empty() ? "" : ",") + std::to_string(n);
    text += "\\textsuperscript{" + marks + "}";
  }
  return text;
}

void header_rows(std::ostringstream& out, const LaidTable& table) {
  const size_t lead = 2;
  const auto groups = group_spans(table);
  const auto labels = label_spans(table);
  const bool parts = table.spec->compare;
  auto spans_row = [&](const std::vector<Span>& spans, bool last) {
    const auto heads = leading_headers(table);
    out << (last ? heads[0] + " & " + heads[1] : std::string(" & "));
    std::string rules;
    for (const auto& s : spans) {
      out << " & ";
      if (s.count == 1) out << latex_escape(s.text);
      else out << "\\multicolumn{" << s.count << "}{c}{" << latex_escape(s.text) << "}";
      if (!s.text.empty() && (s.count > 1 || !last))
        rules += "\\cmidrule(lr){" + std::to_string(lead + s.first + 1) + "-" + std::to_string(lead + s.first + s.count) + "}";
    }
    out << " \\\\\n";
    if (!rules.empty() && !last) out << rules << "\n";
  };
  if (!groups.empty()) spans_row(groups, false);
  spans_row(labels, !parts);
  if (parts) {
    const auto heads = leading_headers(table);
    out << heads[0] << " & " << heads[1];
    for (const auto& c : table.columns) out << " & " << part_header(c.part);
    out << " \\\\\n";
  }
}

}  // namespace

std::string latex_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\textbackslash{}"; break;
      case '{': case '}': case '$': case '&': case '#': case '_': case '%':
        out += '\\';
        out += c;
        break;
      case '^': out += "\\textasciicircum{}"; break;
      case '~': out += "\\textasciitilde{}"; break;
      default: out += c;
    }
  }
  return out;
}

std::string latex_table(const LaidTable& table) {
  std::ostringstream out;
  out << "% abq report: " << table.spec->name << ". Needs \\usepackage{booktabs,multirow}.\n"
      << "% Best per column (within a setting group) in bold, second underlined; values that a z-test on\n"
      << "% their stored standard errors cannot separate share the mark.\n"
      << "\\begin{table}[t]\n\\centering\n";
  if (!table.spec->caption.empty()) out << "\\caption{" << latex_escape(table.spec->caption) << "}\n";
  out << "\\label{tab:" << table.spec->name << "}\n\\begin{tabular}{ll" << std::string(table.columns.size(), 'r')
      << "}\n\\toprule\n";
  header_rows(out, table);
  out << "\\midrule\n";
  const bool grouped = table.spec->group_by == "setting";
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const LaidRow& row = table.rows[r];
    const bool first = r == 0 || table.rows[r - 1].group != row.group;
    if (grouped && first && r > 0) out << "\\midrule\n";
    const auto lead = leading_cells(table, r, true);
    if (grouped) {
      const size_t n = group_size_from(table, r);
      if (!first) out << "";
      else if (n > 1) out << "\\multirow{" << n << "}{*}{" << latex_escape(lead[0]) << "}";
      else out << latex_escape(lead[0]);
      out << " & " << latex_escape(lead[1]);
    } else {
      out << latex_escape(lead[0]) << " & " << latex_escape(lead[1]);
    }
    for (size_t c = 0; c < table.columns.size(); ++c) out << " & " << marked(table, row, c);
    out << " \\\\\n";
  }
  out << "\\bottomrule\n\\end{tabular}\n";
  if (!table.notes.empty()) {
    out << "\\par\\smallskip\n{\\footnotesize\n";
    for (size_t i = 0; i < table.notes.size(); ++i)
      out << "\\textsuperscript{" << i + 1 << "}~" << latex_escape(table.notes[i]) << "\\\\\n";
    out << "}\n";
  }
  out << "\\end{table}\n";
  return out.str();
}

}  // namespace abq::report

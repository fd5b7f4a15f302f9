#include <sstream>

#include "experiments/report/table_header.h"
#include "experiments/report/writers.h"

namespace abq::report {
namespace {

std::string marked(const LaidTable& table, const LaidRow& row, size_t c) {
  const Cell& cell = row.cells[c];
  if (!cell.present) return "&ndash;";
  std::string text = html_escape(cell_text(table, row, c));
  if (cell.rank == 1) text = "<b>" + text + "</b>";
  if (cell.rank == 2) text = "<u>" + text + "</u>";
  if (!cell.notes.empty()) {
    std::string marks;
    for (int n : cell.notes) marks += (marks.empty() ? "" : ",") + std::to_string(n);
    text += "<sup>" + marks + "</sup>";
  }
  return text;
}

void table_html(std::ostringstream& out, const LaidTable& table) {
  out << "<h2>" << html_escape(table.spec->name) << "</h2>\n<table>\n";
  if (!table.spec->caption.empty()) out << "<caption>" << html_escape(table.spec->caption) << "</caption>\n";
  const auto groups = group_spans(table);
  const auto labels = label_spans(table);
  const size_t header_rows = 1 + !groups.empty() + table.spec->compare;
  const auto heads = leading_headers(table);
  out << "<thead><tr>";
  for (const auto& h : heads) out << "<th rowspan=\"" << header_rows << "\">" << h << "</th>";
  const auto& first = groups.empty() ? labels : groups;
  for (const auto& s : first) out << "<th colspan=\"" << s.count << "\">" << html_escape(s.text) << "</th>";
  out << "</tr>\n";
  if (!groups.empty()) {
    out << "<tr>";
    for (const auto& s : labels) out << "<th colspan=\"" << s.count << "\">" << html_escape(s.text) << "</th>";
    out << "</tr>\n";
  }
  if (table.spec->compare) {
    out << "<tr>";
    for (const auto& c : table.columns) out << "<th>" << (c.part == Part::delta ? "&Delta;" : part_name(c.part)) << "</th>";
    out << "</tr>\n";
  }
  out << "</thead>\n<tbody>\n";
  const bool grouped = table.spec->group_by == "setting";
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const auto lead = leading_cells(table, r, true);
    out << "<tr>";
    if (grouped) {
      const bool first_of_group = r == 0 || table.rows[r - 1].group != table.rows[r].group;
      if (first_of_group)
        out << "<td rowspan=\"" << group_size_from(table, r) << "\">" << html_escape(lead[0]) << "</td>";
      out << "<td>" << html_escape(lead[1]) << "</td>";
    } else {
      out << "<td>" << html_escape(lead[0]) << "</td><td>" << html_escape(lead[1]) << "</td>";
    }
    for (size_t c = 0; c < table.columns.size(); ++c) out << "<td class=\"n\">" << marked(table, table.rows[r], c) << "</td>";
    out << "</tr>\n";
  }
  out << "</tbody>\n</table>\n";
  if (!table.notes.empty()) {
    out << "<ol class=\"notes\">\n";
    for (const auto& note : table.notes) out << "<li>" << html_escape(note) << "</li>\n";
    out << "</ol>\n";
  }
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string html_page(const HtmlPage& page) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" << html_escape(page.title) << "</title>\n"
      << "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
         "table{border-collapse:collapse;margin:1em 0}th,td{padding:2px 8px}"
         "thead{border-top:2px solid #000;border-bottom:1px solid #000}tbody{border-bottom:2px solid #000}"
         "td.n{text-align:right;font-variant-numeric:tabular-nums}caption{caption-side:top;font-weight:bold}"
         "img{max-width:100%;margin:1em 0}.notes{font-size:90%}</style></head>\n<body>\n<h1>"
      << html_escape(page.title) << "</h1>\n"
      << "<p>Best per column (within a setting group) in bold, second underlined; values a z-test on their "
         "stored standard errors cannot separate share the mark.</p>\n";
  for (const auto& line : page.lines) out << "<p>" << html_escape(line) << "</p>\n";
  for (const auto* table : page.tables) table_html(out, *table);
  if (!page.images.empty()) out << "<h2>Plots</h2>\n";
  for (const auto& image : page.images)
    out << "<figure><img src=\"" << html_escape(image) << "\" alt=\"" << html_escape(image) << "\"></figure>\n";
  out << "</body></html>\n";
  return out.str();
}

}  // namespace abq::report

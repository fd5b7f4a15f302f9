// Output formats of a laid-out table. LaTeX: booktabs rules, \multirow setting groups,
// \multicolumn headers with \cmidrule, best \textbf, second \underline, footnotes under the
// tabular (needs \usepackage{booktabs,multirow}). Markdown: a GitHub table, best **bold**, second
// <u>underlined</u>. CSV: one line per cell (long format, RFC 4180 quoting) with stderr, rank,
// protocol and provenance. HTML: a page holding every table and the plots.
#pragma once

#include <string>
#include <vector>

#include "experiments/report/layout.h"

namespace abq::report {

std::string latex_table(const LaidTable& table);
std::string markdown_table(const LaidTable& table);
/// The header line, then one line per present cell.
std::string csv_table(const LaidTable& table);
std::string csv_header();

struct HtmlPage {
  std::string title;
  std::vector<const LaidTable*> tables;
  std::vector<std::string> images;   // PNG paths relative to the page
  std::vector<std::string> lines;    // extra paragraphs (gate results, rescoring notes), plain text
};
std::string html_page(const HtmlPage& page);

/// Escapes LaTeX specials (\ { } $ & # ^ _ % ~).
std::string latex_escape(const std::string& text);
/// Escapes & < > ".
std::string html_escape(const std::string& text);

}  // namespace abq::report

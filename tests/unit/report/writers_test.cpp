// The output formats of one small hand-made table, pinned: booktabs + multirow LaTeX with the best
// bold and the second underlined, the same marks in Markdown, one CSV line per cell, HTML rowspan
// and escaping. The marks follow from the values by hand: perplexity, lower is better, no stderr.
#include <gtest/gtest.h>

#include "experiments/report/layout.h"
#include "experiments/report/writers.h"

using namespace abq::report;

namespace {

Observation obs(Source source, std::string method, std::string setting, double value) {
  Observation o;
  o.source = source;
  o.model = "M";
  o.method = std::move(method);
  o.setting = std::move(setting);
  o.metric = "ppl";
  o.dataset = "wikitext2";
  o.protocol = "gptq.wikitext2.T2048";
  o.value = value;
  o.origin = source == Source::ours ? "r.h5#1" : "t: cited";
  return o;
}

TableSpec small_spec() {
  TableSpec s;
  s.name = "t2";
  s.caption = "W-A perplexity";
  s.settings = {{"W4A4KV4", "W4A4"}, {"W16A16KV16", "FP16"}};
  s.columns = {ColumnSpec{"M", "Wiki_2", "M", "ppl", "wikitext2", "", "", "", 2, {}}};
  return s;
}

const std::vector<Observation>& observations() {
  static const std::vector<Observation> o = {
      obs(Source::paper, "SmoothQuant", "W4A4KV4", 22.25), obs(Source::paper, "OmniQuant", "W4A4KV4", 11.26),
      obs(Source::paper, "ABQ-LLM", "W4A4KV4", 8.63), obs(Source::ours, "ABQ-LLM", "W4A4KV4", 9.0),
      obs(Source::paper, "FP16", "W16A16KV16", 5.68)};
  return o;
}

}  // namespace

TEST(Writers, LatexBooktabsMultirowMarks) {
  const TableSpec s = small_spec();
  const LaidTable t = lay_out(s, observations(), 1.96);
  EXPECT_EQ(latex_table(t),
            "% abq report: t2. Needs \\usepackage{booktabs,multirow}.\n"
            "% Best per column (within a setting group) in bold, second underlined; values that a z-test on\n"
            "% their stored standard errors cannot separate share the mark.\n"
            "\\begin{table}[t]\n\\centering\n\\caption{W-A perplexity}\n\\label{tab:t2}\n"
            "\\begin{tabular}{llr}\n\\toprule\n"
            " &  & M \\\\\n\\cmidrule(lr){3-3}\n"
            "Setting & Method & Wiki\\_2 \\\\\n\\midrule\n"
            "\\multirow{4}{*}{W4A4} & SmoothQuant & 22.25 \\\\\n"
            " & OmniQuant & 11.26 \\\\\n"
            " & ABQ-LLM & \\textbf{8.63} \\\\\n"
            " & ABQ-LLM (ours) & \\underline{9.00} \\\\\n"
            "\\midrule\nFP16 & FP16 & 5.68 \\\\\n"
            "\\bottomrule\n\\end{tabular}\n\\end{table}\n");
}

TEST(Writers, MarkdownAndCsv) {
  const TableSpec s = small_spec();
  const LaidTable t = lay_out(s, observations(), 1.96);
  EXPECT_EQ(markdown_table(t),
            "**W-A perplexity**\n\n"
            "| Setting | Method | M Wiki_2 |\n|---|---|---:|\n"
            "| W4A4 | SmoothQuant | 22.25 |\n"
            "|  | OmniQuant | 11.26 |\n"
            "|  | ABQ-LLM | **8.63** |\n"
            "|  | ABQ-LLM (ours) | <u>9.00</u> |\n"
            "| FP16 | FP16 | 5.68 |\n");
  const std::string csv = csv_table(t);
  EXPECT_NE(csv.find("t2,W4A4KV4,ABQ-LLM,ours,M,Wiki_2,ours,M,ppl,wikitext2,9,,1,2,,gptq.wikitext2.T2048,,r.h5#1\n"),
            std::string::npos)
      << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
}

TEST(Writers, HtmlRowspanAndEscaping) {
  const TableSpec s = small_spec();
  const LaidTable t = lay_out(s, observations(), 1.96);
  HtmlPage page{"a <report>", {&t}, {"plots/ppl.png"}, {}};
  const std::string html = html_page(page);
  EXPECT_NE(html.find("<title>a &lt;report&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("<td rowspan=\"4\">W4A4</td><td>SmoothQuant</td>"), std::string::npos);
  EXPECT_NE(html.find("<b>8.63</b>"), std::string::npos);
  EXPECT_NE(html.find("<img src=\"plots/ppl.png\""), std::string::npos);
  EXPECT_EQ(latex_escape("a_b%c&d#e$f{g}"), "a\\_b\\%c\\&d\\#e\\$f\\{g\\}");
}

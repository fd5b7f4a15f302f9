// Layout from hand-made observations: rows grouped by setting in spec order, seeds averaged
// (mean of the runs, stderr of the mean sqrt(sum s_i^2) / k), a cell under another protocol
// flagged, paper / ours / delta with delta = ours - paper, and no delta across protocols.
#include <gtest/gtest.h>

#include <cmath>

#include "experiments/report/layout.h"

using namespace abq::report;

namespace {

Observation ours(std::string method, std::string setting, std::string dataset, double value, double se,
                 std::string protocol) {
  Observation o;
  o.source = Source::ours;
  o.model = "M";
  o.method = std::move(method);
  o.setting = std::move(setting);
  o.metric = "ppl";
  o.dataset = std::move(dataset);
  o.protocol = std::move(protocol);
  o.value = value;
  o.stderr_value = se;
  o.origin = "r.h5#" + o.method;
  return o;
}

Observation paper(std::string method, std::string setting, std::string dataset, double value, std::string protocol) {
  Observation o = ours(std::move(method), std::move(setting), std::move(dataset), value, NAN, std::move(protocol));
  o.source = Source::paper;
  o.origin = "table: cited";
  return o;
}

TableSpec spec(bool compare) {
  TableSpec s;
  s.compare = compare;
  s.settings = {{"W4A4KV4", "W4A4"}, {"W3A16KV16", "W3A16"}};
  s.columns = {ColumnSpec{"M", "Wiki", "M", "ppl", "wikitext2", "", "gptq.wikitext2.T2048", "", 2, {}},
               ColumnSpec{"M", "C4", "M", "ppl", "c4", "", "gptq.c4.T2048", "", 2, {}}};
  return s;
}

}  // namespace

TEST(Layout, GroupsSeedsAndProtocolFlags) {
  const std::vector<Observation> obs = {
      ours("RTN", "W3A16KV16", "wikitext2", 8.0, NAN, "gptq.wikitext2.T2048@aa"),
      ours("GPTQ", "W4A4KV4", "wikitext2", 10.0, 0.3, "gptq.wikitext2.T2048@aa"),
      ours("GPTQ", "W4A4KV4", "wikitext2", 11.0, 0.4, "gptq.wikitext2.T2048@bb"),
      ours("GPTQ", "W4A4KV4", "c4", 12.0, NAN, "gptq.c4new.T2048@cc"),
  };
  const TableSpec s = spec(false);
  const LaidTable t = lay_out(s, obs, 1.96);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].group, "W4A4");  // spec order, though RTN W3A16 came first
  EXPECT_EQ(t.rows[1].group, "W3A16");
  const Cell& wiki = t.rows[0].cells[0];
  EXPECT_DOUBLE_EQ(wiki.value, 10.5);
  EXPECT_DOUBLE_EQ(wiki.stderr_value, 0.25);  // sqrt(0.09 + 0.16) / 2
  EXPECT_EQ(wiki.observations, 2);
  EXPECT_EQ(wiki.rank, 0);  // alone in its group: no best of one
  EXPECT_TRUE(wiki.notes.empty());  // both protocol names equal; only the hashes differ
  const Cell& c4 = t.rows[0].cells[1];
  ASSERT_EQ(c4.notes.size(), 1u);
  EXPECT_EQ(t.notes[size_t(c4.notes[0] - 1)],
            "measured under gptq.c4new.T2048; the column M C4 is defined under gptq.c4.T2048");
}

TEST(Layout, PaperOursDelta) {
  const std::vector<Observation> obs = {
      paper("GPTQ", "W4A4KV4", "wikitext2", 9.5, "gptq.wikitext2.T2048"),
      ours("GPTQ", "W4A4KV4", "wikitext2", 10.0, NAN, "gptq.wikitext2.T2048@aa"),
      paper("GPTQ", "W4A4KV4", "c4", 12.0, "gptq.c4.T2048"),
      ours("GPTQ", "W4A4KV4", "c4", 13.0, NAN, "gptq.c4new.T2048@cc"),
  };
  const TableSpec s = spec(true);
  const LaidTable t = lay_out(s, obs, 1.96);
  ASSERT_EQ(t.rows.size(), 1u);
  ASSERT_EQ(t.columns.size(), 6u);  // (paper, ours, delta) x 2
  const auto& cells = t.rows[0].cells;
  EXPECT_DOUBLE_EQ(cells[0].value, 9.5);
  EXPECT_DOUBLE_EQ(cells[1].value, 10.0);
  EXPECT_DOUBLE_EQ(cells[2].value, 0.5);
  EXPECT_EQ(value_text(cells[2], 2, true), "+0.50");
  EXPECT_EQ(value_text(cells[5], 2, true), "n/c");  // C4 under another protocol: never compared
  ASSERT_EQ(t.comparisons.size(), 2u);
  EXPECT_TRUE(t.comparisons[0].comparable || t.comparisons[1].comparable);
  EXPECT_FALSE(t.comparisons[0].comparable && t.comparisons[1].comparable);
}

TEST(Layout, AggregateMean) {
  TableSpec s;
  s.group_by = "none";
  s.columns = {ColumnSpec{"", "A", "", "acc", "a", "", "", "", 2, {}},
               ColumnSpec{"", "B", "", "acc", "b", "", "", "", 2, {}},
               ColumnSpec{"", "Avg", "", "acc", "", "", "", "", 2, {"A", "B"}}};
  Observation a = ours("X", "W4A4KV4", "a", 60, 3, "zs.a.acc.0shot@1"), b = ours("X", "W4A4KV4", "b", 70, 4, "zs.b.acc.0shot@2");
  a.metric = b.metric = "acc";
  const LaidTable t = lay_out(s, {a, b}, 1.96);
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_DOUBLE_EQ(t.rows[0].cells[2].value, 65);
  EXPECT_DOUBLE_EQ(t.rows[0].cells[2].stderr_value, 2.5);  // sqrt(9 + 16) / 2
}

TEST(Layout, ValueTextAsPapersPrint) {
  Cell c;
  c.present = true;
  c.value = 6.126;
  EXPECT_EQ(value_text(c, 2), "6.13");
  c.value = 1483.2;
  EXPECT_EQ(value_text(c, 2), "1483");
  c.value = 110000;
  EXPECT_EQ(value_text(c, 2), "1.1e5");
  c.value = -0.001;
  EXPECT_EQ(value_text(c, 2, true), "0.00");
  c.printed = "2.1e3";
  EXPECT_EQ(value_text(c, 2), "2.1e3");
}

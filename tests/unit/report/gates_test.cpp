// Gates on hand-made comparisons: relative tolerance for perplexity (|9.4 - 9.31| / 9.31 = 0.97 %
// passes 2 %, 9.8 fails: 5.3 %), absolute for accuracy points, a protocol mismatch fails (or is
// skipped), and a gate that compared nothing fails.
#include <gtest/gtest.h>

#include "experiments/report/gates.h"
#include "framework/core/error.h"

using namespace abq::report;

namespace {

Observation obs(Source s, std::string method, std::string metric, double v, std::string protocol) {
  Observation o;
  o.source = s;
  o.model = "L2-7B";
  o.method = std::move(method);
  o.setting = "W4A4KV4";
  o.metric = std::move(metric);
  o.dataset = o.metric == "ppl" ? "wikitext2" : "piqa";
  o.protocol = std::move(protocol);
  o.value = v;
  return o;
}

TableSpec table() {
  TableSpec t;
  t.name = "g";
  t.compare = true;
  t.columns = {ColumnSpec{"", "Wiki", "L2-7B", "ppl", "wikitext2", "", "", "", 2, {}},
               ColumnSpec{"", "PIQA", "L2-7B", "acc", "piqa", "", "", "", 2, {}}};
  return t;
}

ReportSpec spec() {
  ReportSpec s;
  s.gates = {{"ppl", 0.02, NAN}, {"acc", NAN, 1.0}};
  return s;
}

GateResult check(const std::vector<Observation>& o, const ReportSpec& s) {
  const TableSpec t = table();
  std::vector<LaidTable> tables = {lay_out(t, o, 1.96)};
  return check_gates(s, tables);
}

}  // namespace

TEST(Gates, PassAndFailListingTheCell) {
  const auto pass = check({obs(Source::paper, "ABQ-LLM", "ppl", 9.31, "gptq.wikitext2.T2048"),
                           obs(Source::ours, "ABQ-LLM", "ppl", 9.40, "gptq.wikitext2.T2048@ab")},
                          spec());
  EXPECT_TRUE(pass.passed());
  EXPECT_EQ(pass.compared, 1);
  const auto fail = check({obs(Source::paper, "ABQ-LLM", "ppl", 9.31, "gptq.wikitext2.T2048"),
                           obs(Source::ours, "ABQ-LLM", "ppl", 9.80, "gptq.wikitext2.T2048@ab"),
                           obs(Source::paper, "ABQ-LLM", "accuracy_pct", 69.04, "zs.piqa.acc.0shot"),
                           obs(Source::ours, "ABQ-LLM", "acc", 68.50, "zs.piqa.acc.0shot@cd")},
                          spec());
  EXPECT_FALSE(fail.passed());
  EXPECT_EQ(fail.compared, 2);
  // The same cells in a second table (a spec's layout and its paper / ours / delta table) count once.
  const std::vector<Observation> o = {obs(Source::paper, "ABQ-LLM", "ppl", 9.31, "gptq.wikitext2.T2048"),
                                      obs(Source::ours, "ABQ-LLM", "ppl", 9.80, "gptq.wikitext2.T2048@ab")};
  const TableSpec t = table();
  const std::vector<LaidTable> twice = {lay_out(t, o, 1.96), lay_out(t, o, 1.96)};
  EXPECT_EQ(check_gates(spec(), twice).failures.size(), 1u);
  ASSERT_EQ(fail.failures.size(), 1u);
  EXPECT_EQ(fail.failures[0],
            "g: W4A4KV4 ABQ-LLM / Wiki: ours 9.8 vs paper 9.31 (delta +0.49 = +5.26 %, tolerance 2.00 %)");
}

TEST(Gates, ProtocolMismatchAndNothingCompared) {
  const std::vector<Observation> o = {obs(Source::paper, "X", "accuracy_pct", 69.0, "zs.piqa.unstated.0shot"),
                                      obs(Source::ours, "X", "acc", 69.0, "zs.piqa.acc.0shot@cd")};
  const auto fail = check(o, spec());
  ASSERT_EQ(fail.failures.size(), 1u);
  EXPECT_EQ(fail.failures[0], "g: W4A4KV4 X / PIQA: protocols differ (ours zs.piqa.acc.0shot, paper zs.piqa.unstated.0shot)");
  ReportSpec skip = spec();
  skip.on_protocol_mismatch = "skip";
  const auto skipped = check(o, skip);
  EXPECT_EQ(skipped.skipped.size(), 1u);
  EXPECT_FALSE(skipped.passed());  // nothing compared is never a pass
  EXPECT_THROW(check(o, ReportSpec{}), abq::ConfigError);  // --check without gates
}

#include "experiments/report/gates.h"

#include <cmath>
#include <cstdio>
#include <set>

#include "framework/core/error.h"

namespace abq::report {
namespace {

const GateSpec* gate_for(const ReportSpec& spec, const std::string& metric) {
  for (const auto& g : spec.gates)
    if (g.metric == metric) return &g;
  return nullptr;
}

std::string cell_name(const LaidTable& table, const Comparison& c) {
  const ColumnSpec& col = *c.column;
  return table.spec->name + ": " + c.setting + " " + c.method + " / " + (col.group.empty() ? "" : col.group + " ") +
         col.label;
}

std::string describe(const Comparison& c, const GateSpec& gate) {
  char text[256];
  const double delta = c.ours - c.paper;
  if (!std::isnan(gate.relative))
    std::snprintf(text, sizeof text, "ours %.4g vs paper %.4g (delta %+.4g = %+.2f %%, tolerance %.2f %%)", c.ours,
                  c.paper, delta, 100.0 * delta / std::fabs(c.paper), 100.0 * gate.relative);
  else
    std::snprintf(text, sizeof text, "ours %.4g vs paper %.4g (delta %+.4g, tolerance %.4g)", c.ours, c.paper, delta,
                  gate.absolute);
  return text;
}

bool within(const Comparison& c, const GateSpec& gate) {
  if (!std::isfinite(c.ours) || !std::isfinite(c.paper)) return false;
  const double delta = std::fabs(c.ours - c.paper);
  if (!std::isnan(gate.relative)) return delta <= gate.relative * std::fabs(c.paper);
  return delta <= gate.absolute;
}

}  // namespace

GateResult check_gates(const ReportSpec& spec, const std::vector<LaidTable>& tables) {
  if (spec.gates.empty())
    throw ConfigError((spec.path.empty() ? std::string("the default report") : spec.path) +
                      ": --check needs `gates:` (a tolerance per metric) in the report spec");
  GateResult result;
  std::set<std::string> seen;  // a cell shown by two tables (layout and paper / ours / delta) is checked once
  for (const auto& table : tables)
    for (const auto& c : table.comparisons) {
      const GateSpec* gate = gate_for(spec, c.column->metric);
      if (!gate) continue;
      const ColumnSpec& col = *c.column;
      if (!seen.insert(c.setting + "\n" + c.method + "\n" + col.model + "\n" + col.metric + "\n" + col.dataset).second)
        continue;
      if (!c.comparable) {
        const std::string line = cell_name(table, c) + ": protocols differ (ours " + c.ours_protocol + ", paper " +
                                 c.paper_protocol + ")";
        (spec.on_protocol_mismatch == "skip" ? result.skipped : result.failures).push_back(line);
        continue;
      }
      ++result.compared;
      if (!within(c, *gate)) result.failures.push_back(cell_name(table, c) + ": " + describe(c, *gate));
    }
  return result;
}

}  // namespace abq::report

// Regression gates (`abq report --check`): every reproduced number that has a published
// counterpart in the report's tables (a Comparison, layout.h) and a tolerance for its metric in
// the spec must lie within it: |ours - paper| <= absolute (accuracy points), or
// |ours - paper| <= relative * |paper| (perplexities). A pair measured under different protocols
// fails (or, with on_protocol_mismatch: skip, is listed and skipped); a gate that compared nothing
// fails, so a renamed run or a missing results file cannot pass silently.
#pragma once

#include <string>
#include <vector>

#include "experiments/report/layout.h"
#include "experiments/report/report_spec.h"

namespace abq::report {

struct GateResult {
  int compared = 0;                  // pairs checked against a tolerance
  std::vector<std::string> failures;  // one line per failing cell
  std::vector<std::string> skipped;   // protocol mismatches under on_protocol_mismatch: skip
  bool passed() const { return compared > 0 && failures.empty(); }
};

/// Checks the comparisons of every table; throws abq::ConfigError when the spec has no gates.
GateResult check_gates(const ReportSpec& spec, const std::vector<LaidTable>& tables);

}  // namespace abq::report

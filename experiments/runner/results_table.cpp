#include "experiments/runner/results_table.h"

#include "framework/core/text_table.h"

namespace abq::runner {

std::string run_attribute(const store::RunRecord& run, const std::string& key) {
  auto it = run.attributes.find(key);
  return it == run.attributes.end() ? "" : it->second;
}

const char* run_status_label(store::RunStatus status) {
  switch (status) {
    case store::RunStatus::running: return "incomplete";
    case store::RunStatus::complete: return "complete";
    case store::RunStatus::failed: return "failed";
  }
  return "?";
}

MetricsTable metrics_table(const std::vector<store::RunRecord>& runs,
                           const std::function<bool(const store::MetricRow&)>& keep) {
  MetricsTable out;
  for (const auto& r : runs)
    for (const auto& m : r.metrics) {
      if (!keep(m)) continue;
      std::string col = m.metric + ":" + m.dataset;
      auto [it, inserted] = out.protocols.emplace(col, m.protocol);
      if (inserted) out.columns.push_back(col);
      else if (it->second != m.protocol) it->second = "(differs between runs: not comparable)";
    }
  std::vector<std::string> header = {"run", "id", "setting", "status"};
  header.insert(header.end(), out.columns.begin(), out.columns.end());
  TextTable table(header);
  for (const auto& r : runs) {
    std::vector<std::string> row = {run_attribute(r, "name"), r.run_id, run_attribute(r, "setting"),
                                    run_status_label(r.status)};
    for (const auto& col : out.columns) {
      std::string cell = "-";
      for (const auto& m : r.metrics)
        if (m.metric + ":" + m.dataset == col) cell = format_number(m.value, 3);
      row.push_back(cell);
    }
    table.add_row(row);
  }
  out.text = table.render();
  return out;
}

}  // namespace abq::runner

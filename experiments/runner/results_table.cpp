#include "experiments/runner/results_table.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "framework/core/error.h"
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

std::string mean_std_text(const std::vector<double>& values) {
  if (values.empty()) return "-";
  double mean = 0;
  for (double v : values) mean += v;
  mean /= double(values.size());
  if (values.size() == 1) return format_number(mean, 3);
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  // Equal values (a method the seed does not affect) have no spread, whatever the mean's rounding.
  if (std::all_of(values.begin(), values.end(), [&](double v) { return v == values.front(); })) squares = 0;
  return format_number(mean, 3) + " ± " + format_number(std::sqrt(squares / double(values.size() - 1)), 3);
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
  // Mixed-precision runs: the bits they spent and the loss their allocation predicted, beside
  // the measured metrics (allocations/README.md).
  bool allocated = false;
  for (const auto& r : runs) allocated = allocated || !run_attribute(r, "predicted_loss").empty();
  if (allocated) header.insert(header.end(), {"bits/param", "predicted_loss"});
  header.insert(header.end(), out.columns.begin(), out.columns.end());
  TextTable table(header);
  auto value_of = [](const store::RunRecord& r, const std::string& col, double& value) {  // the last one listed
    bool found = false;
    for (const auto& m : r.metrics)
      if (m.metric + ":" + m.dataset == col) {
        value = m.value;
        found = true;
      }
    return found;
  };
  // One row per run, or per seed group (in the order the group's first run appears).
  std::vector<std::vector<const store::RunRecord*>> rows;
  std::map<std::string, size_t> group_row;
  for (const auto& r : runs) {
    const std::string group = run_attribute(r, "seed_group");
    if (group.empty()) {
      rows.push_back({&r});
      continue;
    }
    auto [it, inserted] = group_row.emplace(run_attribute(r, "experiment") + "\n" + group, rows.size());
    if (inserted) rows.emplace_back();
    rows[it->second].push_back(&r);
  }
  for (const auto& members : rows) {
    const store::RunRecord& first = *members.front();
    const std::string group = run_attribute(first, "seed_group");
    int complete = 0;
    for (const auto* r : members) complete += r->status == store::RunStatus::complete;
    std::vector<std::string> row;
    if (group.empty()) {
      row = {run_attribute(first, "name"), first.run_id, run_attribute(first, "setting"), run_status_label(first.status)};
    } else {
      row = {cat(group, " (", members.size(), " seeds)"), first.run_id + (members.size() > 1 ? "+" : ""),
             run_attribute(first, "setting"),
             complete == int(members.size()) ? std::string("complete") : cat(complete, "/", members.size(), " complete")};
    }
    if (allocated) {
      const std::string bits = run_attribute(first, "avg_weight_bits_with_scales");
      const std::string predicted = run_attribute(first, "predicted_loss");
      row.push_back(bits.empty() ? "-" : format_number(std::strtod(bits.c_str(), nullptr), 4));
      row.push_back(predicted.empty() ? "-" : predicted);
    }
    for (const auto& col : out.columns) {
      std::vector<double> values;
      for (const auto* r : members) {
        double v = 0;
        if ((group.empty() || r->status == store::RunStatus::complete) && value_of(*r, col, v)) values.push_back(v);
      }
      row.push_back(group.empty() ? (values.empty() ? "-" : format_number(values.front(), 3)) : mean_std_text(values));
    }
    table.add_row(row);
  }
  out.text = table.render();
  return out;
}

}  // namespace abq::runner

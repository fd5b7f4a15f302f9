// abq show RESULTS.h5: runs x metrics table of a results store, with filters.
#include <fnmatch.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "framework/cli/parse_args.h"
#include "framework/core/text_table.h"
#include "framework/store/results_store.h"

namespace abq::cli {
namespace {

const char* status_name(store::RunStatus s) {
  switch (s) {
    case store::RunStatus::running: return "incomplete";
    case store::RunStatus::complete: return "complete";
    case store::RunStatus::failed: return "failed";
  }
  return "?";
}

bool glob(const std::string& pattern, const std::string& text) {
  return pattern.empty() || fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

std::string attribute(const store::RunRecord& r, const std::string& key) {
  auto it = r.attributes.find(key);
  return it == r.attributes.end() ? "" : it->second;
}

}  // namespace

int cmd_show(const Args& args) {
  po::options_description options("options");
  std::string file, run_glob, metric_glob = "*", dataset_glob = "*";
  bool protocols = false, timings = false;
  options.add_options()
      ("file", po::value(&file)->required(), "results file (.h5)")
      ("run", po::value(&run_glob), "only runs whose name matches this glob")
      ("metric", po::value(&metric_glob)->default_value("*"), "only metrics matching this glob (ppl, acc, ...)")
      ("dataset", po::value(&dataset_glob)->default_value("*"), "only datasets matching this glob")
      ("protocols", po::bool_switch(&protocols), "list the protocol id of every metric column")
      ("timings", po::bool_switch(&timings), "per-run stage timings and peak resident memory");
  po::variables_map values;
  if (!parse_args("show", "RESULTS.h5 [--run GLOB] [--metric GLOB] [--dataset GLOB]", args, options, values, "file"))
    return kExitOk;

  store::ResultsStore results(file);
  auto runs = results.read_all();
  // Execution order reads like the experiment file; run ids are hashes and sort arbitrarily.
  std::stable_sort(runs.begin(), runs.end(), [](const store::RunRecord& a, const store::RunRecord& b) {
    return attribute(a, "started") < attribute(b, "started");
  });
  // Columns: one per (metric, dataset, protocol) seen, in first-seen order.
  std::vector<std::string> columns;
  std::map<std::string, std::string> column_protocol;
  for (const auto& r : runs) {
    if (!glob(run_glob, attribute(r, "name"))) continue;
    for (const auto& m : r.metrics) {
      if (!glob(metric_glob, m.metric) || !glob(dataset_glob, m.dataset)) continue;
      std::string col = m.metric + ":" + m.dataset;
      if (!column_protocol.count(col)) columns.push_back(col);
      auto [it, inserted] = column_protocol.emplace(col, m.protocol);
      if (!inserted && it->second != m.protocol) it->second = "(differs between runs: not comparable)";
    }
  }
  std::vector<std::string> header = {"run", "id", "status"};
  header.insert(header.end(), columns.begin(), columns.end());
  TextTable table(header);
  for (const auto& r : runs) {
    if (!glob(run_glob, attribute(r, "name"))) continue;
    std::vector<std::string> row = {attribute(r, "name"), r.run_id, status_name(r.status)};
    for (const auto& col : columns) {
      std::string cell = "-";
      for (const auto& m : r.metrics)
        if (m.metric + ":" + m.dataset == col) cell = format_number(m.value, 3);
      row.push_back(cell);
    }
    table.add_row(row);
  }
  std::cout << file << ": " << runs.size() << " run(s)\n" << table.render();
  if (protocols)
    for (const auto& col : columns) std::cout << "  " << col << "  " << column_protocol[col] << "\n";
  if (timings) {
    TextTable stages({"run", "stage", "seconds", "peak MiB"});
    for (const auto& r : runs) {
      if (!glob(run_glob, attribute(r, "name"))) continue;
      for (const auto& t : r.timings)
        stages.add_row({attribute(r, "name"), t.stage, format_number(t.seconds, 2),
                        format_number(double(t.peak_bytes) / (1 << 20), 0)});
    }
    std::cout << "\n" << stages.render();
  }
  return kExitOk;
}

}  // namespace abq::cli

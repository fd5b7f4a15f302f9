#include "experiments/report/observation.h"

#include <fnmatch.h>

#include <algorithm>

namespace abq::report {
namespace {

std::string attribute(const store::RunRecord& run, const std::string& key) {
  auto it = run.attributes.find(key);
  return it == run.attributes.end() ? std::string() : it->second;
}

}  // namespace

bool glob_match(const std::string& pattern, const std::string& text) {
  return pattern.empty() || fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

std::string protocol_name(const std::string& protocol) { return protocol.substr(0, protocol.find('@')); }

double display_scale(const std::string& metric) {
  const bool fraction = metric == "top1_agreement" || (metric.rfind("acc", 0) == 0 && metric != "accuracy_pct");
  return fraction ? 100.0 : 1.0;
}

bool lower_is_better(const std::string& metric) {
  static const char* lower[] = {"ppl", "word_ppl", "word_perplexity", "byte_perplexity", "bits_per_byte",
                                "kl_mean", "kl_p50", "kl_p90", "kl_p99", "kl_max", "delta_nll", "mse",
                                "latency_s", "memory_gb"};
  return std::find(std::begin(lower), std::end(lower), metric) != std::end(lower);
}

std::vector<RunView> read_runs(const std::vector<std::string>& files, const std::vector<RunNaming>& naming) {
  std::vector<RunView> out;
  for (const auto& file : files) {
    store::ResultsStore results(file, store::OpenMode::existing);
    std::vector<store::RunRecord> runs = results.read_all();
    // Execution order reads like the experiment file; run ids are hashes and sort arbitrarily.
    std::stable_sort(runs.begin(), runs.end(), [](const store::RunRecord& a, const store::RunRecord& b) {
      return attribute(a, "started") < attribute(b, "started");
    });
    for (auto& record : runs) {
      if (record.status != store::RunStatus::complete) continue;
      RunView view{file, std::move(record), "", "", ""};
      const std::string name = attribute(view.record, "name"), experiment = attribute(view.record, "experiment");
      view.model = experiment;
      view.method = name;
      bool have_model = false, have_method = false;
      for (const auto& rule : naming) {
        if (!glob_match(rule.match, name) || !glob_match(rule.experiment, experiment)) continue;
        if (!have_model && !rule.model.empty()) view.model = rule.model, have_model = true;
        if (!have_method && !rule.method.empty()) view.method = rule.method, have_method = true;
      }
      view.setting = attribute(view.record, "setting");
      out.push_back(std::move(view));
    }
  }
  return out;
}

std::vector<Observation> run_observations(const std::vector<RunView>& runs) {
  std::vector<Observation> out;
  for (const auto& run : runs) {
    for (const auto& m : run.record.metrics) {
      const double scale = display_scale(m.metric);
      Observation o;
      o.source = Source::ours;
      o.model = run.model;
      o.method = run.method;
      o.setting = run.setting;
      o.metric = m.metric;
      o.dataset = m.dataset;
      o.protocol = m.protocol;
      o.value = m.value * scale;
      o.stderr_value = m.stderr_value * scale;
      o.n = m.n;
      o.origin = run.file + "#" + run.record.run_id;
      out.push_back(std::move(o));
    }
  }
  return out;
}

std::vector<Observation> paper_observations(const std::vector<ReferenceTable>& tables) {
  std::vector<Observation> out;
  for (const auto& table : tables) {
    for (const auto& e : table.entries) {
      const std::string setting = e.setting_id();
      if (setting.empty() || e.protocol.empty()) continue;
      Observation o;
      o.source = Source::paper;
      o.model = e.model;
      o.method = e.method;
      o.setting = setting;
      o.metric = e.metric;
      o.dataset = e.dataset;
      o.protocol = e.protocol;
      o.value = e.value * display_scale(e.metric);
      o.origin = table.id + ": " + e.source;
      o.printed = e.printed;
      out.push_back(std::move(o));
    }
  }
  return out;
}

}  // namespace abq::report

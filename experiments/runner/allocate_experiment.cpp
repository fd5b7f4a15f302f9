#include "experiments/runner/allocate_experiment.h"

#include <fnmatch.h>

#include <map>

#include "experiments/runner/calibration_windows.h"
#include "experiments/runner/load_experiment.h"
#include "framework/core/error.h"
#include "framework/core/text_table.h"
#include "framework/methods/allocations/plan_summary.h"
#include "framework/methods/allocations/site_table.h"
#include "framework/pipeline/cpu_threads.h"
#include "framework/pipeline/model_loader.h"
#include "framework/pipeline/quantize_model.h"
#include "framework/quant/storage_bits.h"

namespace abq::runner {
namespace {

std::string spec_text(const quant::QuantSpec& s) { return s.enabled() ? quant::describe(s) : "fp16"; }

// One row per weight site: its spec, storage, and (for a measured plan) the chosen candidate's score.
TextTable site_table(const methods::SitePlan& plan, const std::vector<methods::SiteInfo>& sites,
                     const methods::AllocationRecord& record) {
  std::map<std::string, const methods::AllocationRecord::Row*> chosen;  // weight site -> chosen row
  for (const auto& r : record.rows)
    if (r.chosen) {
      size_t start = 0;
      while (start <= r.sites.size()) {
        size_t end = r.sites.find(',', start);
        if (end == std::string::npos) end = r.sites.size();
        chosen[r.sites.substr(start, end - start)] = &r;
        start = end + 1;
      }
    }
  TextTable t({"site", "weights", "input", "storage_bits", "bits/param", "group", "group score"});
  for (const auto& s : sites) {
    if (s.role != methods::SiteRole::weight) continue;
    const auto& spec = plan.at(s.name);
    const int64_t bits = quant::weight_storage_bits(spec, s.out_features, s.in_features).total();
    const std::string input = model::site_name(s.layer, model::input_site(model::linear_of(s.kind)));
    const auto it = chosen.find(s.name);
    t.add_row({s.name, spec_text(spec), spec_text(plan.at(input)), std::to_string(bits),
               format_number(double(bits) / double(s.out_features * s.in_features), 4),
               it == chosen.end() ? "-" : it->second->group, it == chosen.end() ? "-" : format_number(it->second->score, 6)});
  }
  return t;
}

void print_record(const methods::AllocationRecord& r, bool candidates, std::ostream& out) {
  for (const auto& [k, v] : r.attributes) out << "  " << k << ": " << v << "\n";
  for (const auto& [k, v] : r.numbers) out << "  " << k << ": " << format_number(v, 6) << "\n";
  if (candidates) {
    TextTable t({"group", "candidate", "storage_bits", "latency_us", "score", "chosen"});
    for (const auto& row : r.rows)
      t.add_row({row.group, row.candidate, format_number(row.storage_bits, 0),
                 row.latency_us < 0 ? "-" : format_number(row.latency_us, 3), format_number(row.score, 8),
                 row.chosen ? "*" : ""});
    out << t.render();
  }
  if (!r.pareto.empty()) {
    out << "predicted Pareto curve (budget in the budget's unit -> predicted loss):\n";
    TextTable t({"budget", "predicted_loss"});
    for (const auto& [b, l] : r.pareto) t.add_row({format_number(b, 4), format_number(l, 8)});
    out << t.render();
  }
}

}  // namespace

int allocate_experiment(const std::string& experiment_file, const AllocateOptions& options, std::ostream& out) {
  pipeline::configure_cpu_threads(options.threads);
  auto specs = load_experiment(experiment_file, options.overrides);
  int allocated = 0;
  for (const auto& spec : specs) {
    if (!options.only.empty() && fnmatch(options.only.c_str(), spec.run_name().c_str(), 0) != 0) continue;
    auto loaded = pipeline::load_model(spec);
    auto& model = *loaded.model;
    const auto calibration = calibration_windows(spec, *loaded.tokenizer, model.device());
    const auto sites = methods::allocation_sites(model.config());
    methods::AllocationRecord record;
    const auto plan = pipeline::plan_sites(model, spec.quant, sites, calibration, loaded.model_sha256, &record);
    const auto summary = methods::summarize_plan(plan, sites);
    out << "run " << spec.run_name() << ": allocation " << spec.quant.allocation.type << ", setting "
        << methods::setting_label(plan, sites) << ", " << format_number(summary.weight_bits, 4) << " bits per weight ("
        << format_number(summary.weight_bits_with_scales, 4) << " with scales)\n";
    out << site_table(plan, sites, record).render();
    print_record(record, options.candidates, out);
    ++allocated;
  }
  if (!options.only.empty() && allocated == 0)
    throw ConfigError(cat("--only '", options.only, "' matches no run of ", experiment_file));
  return allocated;
}

}  // namespace abq::runner

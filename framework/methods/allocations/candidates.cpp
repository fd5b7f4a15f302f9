#include "framework/methods/allocations/candidates.h"

#include <set>

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"
#include "framework/quant/quant_spec_options.h"
#include "framework/quant/storage_bits.h"

namespace abq::methods {

config::Schema candidate_schema() {
  config::Schema entry = quant::quant_spec_options().partial_schema();
  entry.add("activations", quant::quant_spec_options().partial_schema().optional().doc(
                               "spec of the group's linear inputs (over quant.activations)"));
  return entry;
}

std::vector<Candidate> decode_candidates(const YAML::Node& list, const DefaultSpecs& defaults) {
  const auto& options = quant::quant_spec_options();
  std::vector<Candidate> out;
  std::set<std::string> labels;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node entry = list[i];
    Candidate c;
    c.weights = options.decode(entry, defaults.weights);
    if (entry["activations"]) c.activations = options.decode(entry["activations"], defaults.activations);
    const std::string where = cat("candidates[", i, "]");
    for (const auto& p : options.check(c.weights))
      throw ConfigError(cat(where, ".", join(p.key, "."), ": ", p.message));
    if (c.activations)
      for (const auto& p : options.check(*c.activations))
        throw ConfigError(cat(where, ".activations.", join(p.key, "."), ": ", p.message));
    if (!c.weights.enabled() && !c.activations)
      c.label = "fp16";
    else
      c.label = quant::describe(c.weights, "w");
    if (c.activations) c.label += " " + quant::describe(*c.activations, "a");
    if (!labels.insert(c.label).second)
      throw ConfigError(cat(where, ": the same candidate (", c.label, ") is listed twice"));
    out.push_back(c);
  }
  if (out.empty()) throw ConfigError("candidates: list at least one candidate");
  return out;
}

quant::QuantSpec candidate_spec(const Candidate& candidate, const SiteInfo& site, const DefaultSpecs& defaults) {
  if (site.role == SiteRole::weight) return candidate.weights;
  return candidate.activations ? *candidate.activations : defaults.for_role(site.role);
}

double group_storage_bits(const SiteGroup& group, const Candidate& candidate, bool with_scales) {
  double bits = 0;
  for (const auto* w : group.weights) {
    const auto s = quant::weight_storage_bits(candidate.weights, w->out_features, w->in_features);
    bits += double(with_scales ? s.total() : s.codes);
  }
  return bits;
}

double group_latency_us(const SiteGroup& group, const Candidate& candidate, const DefaultSpecs& defaults,
                        const LatencyModel& latency, int64_t tokens) {
  if (!latency) throw ConfigError("a latency budget needs the kernels' latency model, which this build does not wire in");
  double total = 0;
  for (const auto* w : group.weights) {
    const SiteInfo* input = nullptr;
    for (const auto* i : group.inputs)
      if (i->layer == w->layer && i->in_features == w->in_features) input = i;
    const quant::QuantSpec x = input ? candidate_spec(candidate, *input, defaults) : defaults.activations;
    const double us = latency(candidate.weights, x, w->out_features, w->in_features, tokens);
    if (us < 0)
      throw ConfigError(cat("candidate ", candidate.label, ": the kernels cannot run ", w->name, " [", w->out_features,
                            " x ", w->in_features, "] in this format, so it has no latency"));
    total += us;
  }
  return total;
}

}  // namespace abq::methods

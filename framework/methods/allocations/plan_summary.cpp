#include "framework/methods/allocations/plan_summary.h"

#include <cstdio>
#include <optional>

#include "framework/model/parameter_count.h"
#include "framework/quant/storage_bits.h"

namespace abq::methods {
namespace {

struct RoleView {
  std::optional<quant::QuantSpec> first;
  bool uniform = true;
  double bits_sum = 0;  // activations / kv: sum over sites of the bits (16 when disabled)
  int64_t count = 0;
};

RoleView view_of(const SitePlan& plan, const std::vector<SiteInfo>& sites, SiteRole role) {
  RoleView v;
  for (const auto& site : sites) {
    if (site.role != role) continue;
    const auto& spec = plan.at(site.name);
    if (!v.first) v.first = spec;
    v.uniform = v.uniform && same_grid(*v.first, spec);
    v.bits_sum += spec.enabled() ? spec.bits : 16;
    ++v.count;
  }
  return v;
}

std::string one_decimal(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

std::string bits_text(const RoleView& v, double mean) {
  if (!v.first) return "16";
  if (v.uniform) return std::to_string(v.first->enabled() ? v.first->bits : 16);
  return one_decimal(mean);
}

}  // namespace

bool same_grid(const quant::QuantSpec& a, const quant::QuantSpec& b) {
  if (!a.enabled() || !b.enabled()) return a.enabled() == b.enabled();
  return a.bits == b.bits && a.levels() == b.levels() && a.granularity == b.granularity &&
         a.group_size == b.group_size && a.symmetric == b.symmetric && a.dynamic == b.dynamic &&
         a.clip_ratio == b.clip_ratio;
}

PlanSummary summarize_plan(const SitePlan& plan, const std::vector<SiteInfo>& sites) {
  PlanSummary s;
  int64_t codes = 0, total = 0;
  for (const auto& site : sites) {
    if (site.role != SiteRole::weight) continue;
    const auto bits = quant::weight_storage_bits(plan.at(site.name), site.out_features, site.in_features);
    codes += bits.codes;
    total += bits.total();
    s.weight_parameters += site.out_features * site.in_features;
  }
  if (s.weight_parameters > 0) {
    s.weight_bits = double(codes) / double(s.weight_parameters);
    s.weight_bits_with_scales = double(total) / double(s.weight_parameters);
  }
  for (SiteRole role : {SiteRole::weight, SiteRole::activation, SiteRole::kv})
    s.mixed = s.mixed || !view_of(plan, sites, role).uniform;
  return s;
}

double model_storage_bytes(const PlanSummary& summary, const model::LlamaConfig& config) {
  const int64_t unplanned = model::parameter_count(config).total() - summary.weight_parameters;
  return summary.weight_bits_with_scales * double(summary.weight_parameters) / 8 + 2.0 * double(unplanned);
}

std::string setting_label(const SitePlan& plan, const std::vector<SiteInfo>& sites) {
  const PlanSummary summary = summarize_plan(plan, sites);
  const RoleView w = view_of(plan, sites, SiteRole::weight);
  const RoleView a = view_of(plan, sites, SiteRole::activation);
  const RoleView kv = view_of(plan, sites, SiteRole::kv);
  std::string id = "W" + bits_text(w, summary.weight_bits) + "A" + bits_text(a, a.count ? a.bits_sum / a.count : 16) +
                   "KV" + bits_text(kv, kv.count ? kv.bits_sum / kv.count : 16);
  if (w.uniform && w.first && w.first->enabled()) {
    if (w.first->granularity == quant::Granularity::per_group) id += "g" + std::to_string(w.first->group_size);
    if (w.first->levels() != (int64_t(1) << w.first->bits)) id += "*";
  }
  if (summary.mixed) id += " mixed";
  return id;
}

}  // namespace abq::methods

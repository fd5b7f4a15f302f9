#include "framework/methods/allocations/site_overrides.h"

#include "framework/core/error.h"
#include "framework/methods/allocations/site_table.h"
#include "framework/methods/allocations/uniform.h"

namespace abq::methods {
namespace {

const std::optional<quant::QuantSpec>& override_for(const SiteOverride& o, SiteRole role) {
  switch (role) {
    case SiteRole::weight: return o.weights;
    case SiteRole::activation: return o.activations;
    case SiteRole::kv: return o.kv;
  }
  return o.weights;
}

}  // namespace

void apply_site_overrides(SitePlan& plan, const std::vector<SiteInfo>& sites,
                          const std::vector<SiteOverride>& overrides) {
  for (size_t i = 0; i < overrides.size(); ++i) {
    const auto& o = overrides[i];
    bool matched = false;
    for (const auto& site : sites) {
      if (!site_pattern_matches(o.pattern, site)) continue;
      matched = true;
      if (o.skip) {
        plan[site.name].bits = 16;
      } else if (const auto& spec = override_for(o, site.role)) {
        plan[site.name] = *spec;
      }
    }
    if (!matched)
      throw ConfigError(cat("allocation override ", i, " pattern '", o.pattern,
                            "' matches no quantization site (sites look like 'layers.3.mlp.down_proj.weight'; "
                            "`*` matches any characters)"));
  }
}

SitePlan declared_plan(const std::vector<SiteInfo>& sites, const DefaultSpecs& defaults,
                       const std::vector<SiteOverride>& overrides) {
  SitePlan plan = uniform_plan(sites, defaults);
  apply_site_overrides(plan, sites, overrides);
  return plan;
}

}  // namespace abq::methods

#include "framework/methods/allocations/uniform.h"

#include <fnmatch.h>

#include "framework/core/error.h"

namespace abq::methods {

bool site_pattern_matches(const std::string& pattern, const SiteInfo& site) {
  return fnmatch(pattern.c_str(), site.name.c_str(), 0) == 0 ||
         fnmatch(pattern.c_str(), site.module.c_str(), 0) == 0;
}

namespace {

const std::optional<quant::QuantSpec>& override_for(const SiteOverride& o, SiteRole role) {
  switch (role) {
    case SiteRole::weight: return o.weights;
    case SiteRole::activation: return o.activations;
    case SiteRole::kv: return o.kv;
  }
  return o.weights;
}

const quant::QuantSpec& default_for(const DefaultSpecs& d, SiteRole role) {
  switch (role) {
    case SiteRole::weight: return d.weights;
    case SiteRole::activation: return d.activations;
    case SiteRole::kv: return d.kv;
  }
  return d.weights;
}

}  // namespace

std::map<std::string, quant::QuantSpec> allocate_uniform(const std::vector<SiteInfo>& sites,
                                                         const DefaultSpecs& defaults,
                                                         const UniformOptions& options) {
  std::map<std::string, quant::QuantSpec> plan;
  for (const auto& site : sites) plan[site.name] = default_for(defaults, site.role);

  for (size_t i = 0; i < options.overrides.size(); ++i) {
    const auto& o = options.overrides[i];
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
  return plan;
}

}  // namespace abq::methods

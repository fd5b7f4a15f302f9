// Per-site overrides: the pass applied to the plan of any allocation. Each override addresses sites
// by glob (site_table.h) and may set `weights` (weight sites), `activations` (linear-input sites),
// `kv` (attention q/k/v sites) or `skip` (leave every matched site unquantized). They apply in
// order, so later overrides win; an override is the user's explicit word, so it also wins over
// what the allocation chose.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "framework/methods/allocation.h"

namespace abq::methods {

struct SiteOverride {
  std::string pattern;
  std::optional<quant::QuantSpec> weights;
  std::optional<quant::QuantSpec> activations;
  std::optional<quant::QuantSpec> kv;
  bool skip = false;
};

/// Applies `overrides` to `plan` in order. An override pattern that matches no site is an abq::Error
/// naming the pattern: a typo must not silently quantize everything.
void apply_site_overrides(SitePlan& plan, const std::vector<SiteInfo>& sites,
                          const std::vector<SiteOverride>& overrides);

/// The plan declared by the experiment alone: default specs by role, then the overrides (what
/// `abq validate` can check before any model or data is loaded).
SitePlan declared_plan(const std::vector<SiteInfo>& sites, const DefaultSpecs& defaults,
                       const std::vector<SiteOverride>& overrides);

}  // namespace abq::methods

#include "framework/methods/allocations/uniform.h"

namespace abq::methods {

SitePlan uniform_plan(const std::vector<SiteInfo>& sites, const DefaultSpecs& defaults) {
  SitePlan plan;
  for (const auto& site : sites) plan[site.name] = defaults.for_role(site.role);
  return plan;
}

SitePlan UniformAllocation::allocate(const AllocationContext& context) const {
  return uniform_plan(context.sites, context.defaults);
}

const config::OptionSet<UniformOptions>& uniform_options() {
  static const config::OptionSet<UniformOptions> set;
  return set;
}

}  // namespace abq::methods

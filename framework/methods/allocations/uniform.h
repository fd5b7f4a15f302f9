// `uniform`: every site gets the experiment's default spec for its role (quant.weights for linear
// weights, quant.activations for linear inputs, quant.kv for attention q/k/v). The allocation
// every experiment used before mixed precision, and the baseline any other allocation is compared
// against at equal bytes.
#pragma once

#include <string>
#include <vector>

#include "framework/methods/allocation.h"
#include "framework/config/options.h"

namespace abq::methods {

struct UniformOptions {};
/// The one declaration of the UniformOptions keys (type, range, doc; defaults are the struct's).
const config::OptionSet<UniformOptions>& uniform_options();

/// The default spec of each site's role.
SitePlan uniform_plan(const std::vector<SiteInfo>& sites, const DefaultSpecs& defaults);

class UniformAllocation final : public Allocation {
 public:
  explicit UniformAllocation(UniformOptions options = {}) : options_(options) {}
  std::string name() const override { return "uniform"; }
  SitePlan allocate(const AllocationContext& context) const override;

 private:
  UniformOptions options_;
};

}  // namespace abq::methods

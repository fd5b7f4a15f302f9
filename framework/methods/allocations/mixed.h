// `mixed`: mixed-precision bit allocation. Measure once, solve per budget: every site group
// (site_groups.h) gets one of the candidates (candidates.h) so that the summed sensitivity score
// (sensitivity_table.h) is least within the budget, by an exact solver (choice_problem.h).
//
//   quant:
//     weights: {bits: 3}                  # the spec candidates lay over
//     allocation:
//       type: mixed
//       measure: hessian                  # hessian | fisher | block_mse | output_kl
//       solver: dp                        # dp | ilp | greedy (ilp when two budgets are given)
//       ties: qkv+gate_up                 # none | qkv | gate_up | qkv+gate_up
//       budget: {avg_bits: 3.0}           # or {bytes: N}, or {latency_us: T} (with latency_tokens)
//       candidates: [{bits: 2}, {bits: 3}, {bits: 4}]
//
// Budgets: avg_bits counts every weight site's storage over its parameters (scales and
// zero-points included unless scales_in_budget: false); bytes is the same total in bytes;
// latency_us is the kernels' modelled time of all linears at latency_tokens rows. A budget below
// the cheapest assignment is a ConfigError naming the smallest feasible value.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "framework/config/options.h"
#include "framework/methods/allocation.h"

namespace abq::methods {

struct MixedOptions {
  std::string measure = "hessian";
  std::string solver = "dp";
  std::string ties = "qkv+gate_up";
  double avg_bits = 0;       // budget.avg_bits (0: not set)
  double bytes = 0;          // budget.bytes
  double latency_us = 0;     // budget.latency_us
  int64_t latency_tokens = 1;
  bool scales_in_budget = true;
  int64_t windows = 4;       // calibration windows a measurement uses (0: all)
  int64_t resolution = 65536;
  int64_t pareto_points = 9;
};
const config::OptionSet<MixedOptions>& mixed_options();

/// The options' schema plus the `candidates` list.
config::Schema mixed_schema();

class MixedPrecisionAllocation final : public Allocation {
 public:
  /// `options_node`: the validated quant.allocation map (its `candidates` are kept for allocate()).
  explicit MixedPrecisionAllocation(const YAML::Node& options_node);
  std::string name() const override { return "mixed"; }
  SitePlan allocate(const AllocationContext& context) const override;

 private:
  MixedOptions options_;
  YAML::Node candidates_;
};

}  // namespace abq::methods

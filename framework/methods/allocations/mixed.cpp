#include "framework/methods/allocations/mixed.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"
#include "framework/methods/allocations/candidates.h"
#include "framework/methods/allocations/choice_problem.h"
#include "framework/methods/allocations/sensitivity_table.h"
#include "framework/methods/allocations/site_groups.h"
#include "framework/methods/allocations/uniform.h"

namespace abq::methods {
using config::Schema;

const config::OptionSet<MixedOptions>& mixed_options() {
  static const auto set =
      config::OptionSet<MixedOptions>()
          .field("measure", &MixedOptions::measure,
                 Schema::enumeration(measure_names()).doc("sensitivity measure (allocations/README.md)"))
          .field("solver", &MixedOptions::solver,
                 Schema::enumeration({"dp", "ilp", "greedy"}).doc("dp: exact knapsack DP; ilp: GLPK; greedy: baseline"))
          .field("ties", &MixedOptions::ties, Schema::enumeration(ties_names()).doc("linears that share one choice"))
          .field("budget.avg_bits", &MixedOptions::avg_bits,
                 Schema::number().min(0).exclusive_min().optional().doc("average storage bits per weight parameter"))
          .field("budget.bytes", &MixedOptions::bytes,
                 Schema::number().min(0).exclusive_min().optional().doc("total weight storage in bytes"))
          .field("budget.latency_us", &MixedOptions::latency_us,
                 Schema::number().min(0).exclusive_min().optional().doc("modelled time of all linears (µs)"))
          .field("latency_tokens", &MixedOptions::latency_tokens,
                 Schema::integer().range(1, 1 << 20).doc("rows M the latency model is evaluated at"))
          .field("scales_in_budget", &MixedOptions::scales_in_budget,
                 Schema::boolean().doc("count scales and zero-points in avg_bits / bytes"))
          .field("windows", &MixedOptions::windows,
                 Schema::integer().range(0, 1 << 20).doc("calibration windows a measurement uses (0: all)"))
          .field("resolution", &MixedOptions::resolution,
                 Schema::integer().range(16, 1 << 24).doc("cost units of the DP when costs do not divide exactly"))
          .field("pareto_points", &MixedOptions::pareto_points,
                 Schema::integer().range(0, 1000).doc("budgets of the predicted Pareto curve (0: none)"))
          .rule("one storage budget (avg_bits or bytes), a latency budget, or both with solver: ilp",
                [](const MixedOptions& o, std::vector<config::RuleProblem>& problems) {
                  if (o.avg_bits > 0 && o.bytes > 0)
                    problems.push_back({{"budget"}, "give avg_bits or bytes, not both", ""});
                  else if (o.avg_bits == 0 && o.bytes == 0 && o.latency_us == 0)
                    problems.push_back({{"budget"}, "needs avg_bits, bytes or latency_us", "e.g. budget: {avg_bits: 3.0}"});
                  else if ((o.avg_bits > 0 || o.bytes > 0) && o.latency_us > 0 && o.solver != "ilp")
                    problems.push_back({{"solver"}, cat("two budgets need solver: ilp, got ", o.solver), ""});
                });
  return set;
}

Schema mixed_schema() {
  Schema schema = mixed_options().schema();
  schema.add("candidates", Schema::list(candidate_schema()).min_size(1).required().doc(
                               "specs a site group may take, each laid over quant.weights"));
  return schema;
}

MixedPrecisionAllocation::MixedPrecisionAllocation(const YAML::Node& options_node)
    : options_(mixed_options().decode(options_node)), candidates_(YAML::Clone(options_node["candidates"])) {}

namespace {

enum class BudgetKind { avg_bits, bytes, latency };

struct Costs {
  std::vector<std::vector<double>> storage_bits;  // [group][candidate]
  std::vector<std::vector<double>> latency_us;    // empty unless a latency budget is set
  double parameters = 0;                          // weight elements of all groups
};

Costs group_costs(const AllocationContext& c, const std::vector<SiteGroup>& groups, const std::vector<Candidate>& cands,
                  const MixedOptions& o) {
  Costs costs;
  for (const auto& g : groups) {
    costs.parameters += double(g.parameters());
    std::vector<double> bits, us;
    for (const auto& k : cands) {
      bits.push_back(group_storage_bits(g, k, o.scales_in_budget));
      if (o.latency_us > 0) us.push_back(group_latency_us(g, k, c.defaults, c.latency, o.latency_tokens));
    }
    costs.storage_bits.push_back(bits);
    if (o.latency_us > 0) costs.latency_us.push_back(us);
  }
  return costs;
}

// A budget in its own unit, and the solver's cost (bits or µs) it amounts to.
double storage_budget_bits(const MixedOptions& o, const Costs& costs) {
  return o.avg_bits > 0 ? o.avg_bits * costs.parameters : o.bytes * 8;
}
std::string budget_text(const MixedOptions& o) {
  std::ostringstream s;
  if (o.avg_bits > 0) s << "avg_bits " << o.avg_bits;
  if (o.bytes > 0) s << "bytes " << o.bytes;
  if (o.latency_us > 0) s << (s.tellp() > 0 ? ", " : "") << "latency_us " << o.latency_us << " at M " << o.latency_tokens;
  s << (o.scales_in_budget ? " (scales included)" : " (codes only)");
  return s.str();
}

ChoiceSolution solve(const ChoiceProblem& p, const MixedOptions& o, const ChoiceBudget& b) {
  if (o.solver == "ilp") return solve_ilp(p, b);
  const double budget = std::isfinite(b.cost) ? b.cost : b.cost2;
  if (o.solver == "greedy") return solve_greedy(p, budget);
  return solve_knapsack_dp(p, budget, o.resolution);
}

// The budget error in the user's unit: which key, what was asked, what the cheapest plan needs.
[[noreturn]] void infeasible(const InfeasibleBudget& e, const MixedOptions& o, const Costs& costs, bool storage_first) {
  const bool latency = e.on_cost2 || !storage_first;
  if (latency)
    throw ConfigError(cat("budget.latency_us: ", o.latency_us, " is infeasible; the cheapest candidates take ",
                          e.smallest, " µs at M ", o.latency_tokens));
  if (o.avg_bits > 0)
    throw ConfigError(cat("budget.avg_bits: ", o.avg_bits, " is infeasible; the smallest feasible value is ",
                          e.smallest / costs.parameters, o.scales_in_budget ? " (scales included)" : " (codes only)"));
  throw ConfigError(cat("budget.bytes: ", o.bytes, " is infeasible; the smallest feasible value is ",
                        int64_t(std::ceil(e.smallest / 8))));
}

std::string member_list(const SiteGroup& g) {
  std::vector<std::string> names;
  for (const auto* w : g.weights) names.push_back(w->name);
  return join(names, ",");
}

}  // namespace

SitePlan MixedPrecisionAllocation::allocate(const AllocationContext& c) const {
  const MixedOptions& o = options_;
  const std::vector<SiteGroup> groups = group_sites(c.sites, ties_from_string(o.ties));
  const std::vector<Candidate> cands = decode_candidates(candidates_, c.defaults);
  const Costs costs = group_costs(c, groups, cands, o);
  const bool has_storage = o.avg_bits > 0 || o.bytes > 0;
  const ScoreTable scores = score_candidates(c, groups, cands, measure_from_string(o.measure), size_t(o.windows));

  ChoiceProblem problem;
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<ChoiceOption> options;
    for (size_t k = 0; k < cands.size(); ++k) {
      const double lat = o.latency_us > 0 ? costs.latency_us[g][k] : 0;
      options.push_back(has_storage ? ChoiceOption{costs.storage_bits[g][k], lat, scores.score[g][k]}
                                    : ChoiceOption{lat, 0, scores.score[g][k]});
    }
    problem.groups.push_back(options);
  }
  ChoiceBudget budget;
  if (has_storage) budget.cost = storage_budget_bits(o, costs);
  if (o.latency_us > 0) (has_storage ? budget.cost2 : budget.cost) = o.latency_us;

  const auto t0 = std::chrono::steady_clock::now();
  ChoiceSolution chosen;
  try {
    chosen = solve(problem, o, budget);
  } catch (const InfeasibleBudget& e) {
    infeasible(e, o, costs, has_storage);
  }
  const double solve_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  SitePlan plan = uniform_plan(c.sites, c.defaults);
  for (size_t g = 0; g < groups.size(); ++g) {
    const Candidate& k = cands[size_t(chosen.choice[g])];
    for (const auto* w : groups[g].weights) plan[w->name] = k.weights;
    if (k.activations)
      for (const auto* i : groups[g].inputs) plan[i->name] = *k.activations;
  }
  if (!c.record) return plan;

  AllocationRecord& r = *c.record;
  for (size_t g = 0; g < groups.size(); ++g)
    for (size_t k = 0; k < cands.size(); ++k)
      r.rows.push_back({groups[g].name, member_list(groups[g]), cands[k].label, costs.storage_bits[g][k],
                        o.latency_us > 0 ? costs.latency_us[g][k] : -1, scores.score[g][k], chosen.choice[g] == int(k)});
  // The predicted Pareto curve over the first budget, from the cheapest plan to the dearest.
  if (o.pareto_points > 0 && o.solver != "ilp") {
    const double lo = min_total_cost(problem);
    double hi = 0;
    for (const auto& opts : problem.groups) {
      double m = 0;
      for (const auto& op : opts) m = std::max(m, op.cost);
      hi += m;
    }
    const double scale = !has_storage ? 1 : o.avg_bits > 0 ? 1 / costs.parameters : 1.0 / 8;
    for (int64_t i = 0; i < o.pareto_points; ++i) {
      const double b = o.pareto_points == 1 ? lo : lo + (hi - lo) * double(i) / double(o.pareto_points - 1);
      r.pareto.emplace_back(b * scale, solve(problem, o, {b}).score);
    }
  }
  r.attributes["allocation_measure"] = o.measure;
  r.attributes["allocation_solver"] = o.solver;
  r.attributes["allocation_ties"] = o.ties;
  r.attributes["allocation_budget"] = budget_text(o);
  r.attributes["allocation_candidates"] = [&] {
    std::vector<std::string> labels;
    for (const auto& k : cands) labels.push_back(k.label);
    return join(labels, "; ");
  }();
  r.attributes["sensitivity_key"] = scores.key.empty() ? "(not cached: the model has no file digest)" : scores.key;
  r.attributes["sensitivity_from_cache"] = scores.from_cache ? "true" : "false";
  r.numbers["predicted_loss"] = chosen.score;
  r.numbers["measure_seconds"] = scores.measure_seconds;
  r.numbers["measure_seconds_per_group"] = groups.empty() ? 0 : scores.measure_seconds / double(groups.size());
  r.numbers["solve_seconds"] = solve_seconds;
  r.numbers["groups"] = double(groups.size());
  if (has_storage) r.numbers["allocated_bits_per_parameter"] = chosen.cost / costs.parameters;
  if (o.latency_us > 0) r.numbers["allocated_latency_us"] = has_storage ? chosen.cost2 : chosen.cost;
  return plan;
}

}  // namespace abq::methods

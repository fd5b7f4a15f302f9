// Multiple-choice knapsack by dynamic programming over cost units (choice_problem.h).
//
// Each group's cheapest option is paid up front; the DP spends the remaining slack. best[r] is the
// least score of the groups so far with at most r units of slack used (non-increasing in r), so
// one array per step suffices; the option taken at (group, r) is kept for the walk back.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

#include "framework/methods/allocations/choice_problem.h"

namespace abq::methods {
namespace {

// The DP keeps one uint16 choice per (group, unit). Exact units are used while the table stays
// within 2^24 entries (32 MiB, well under a second); beyond that the resolution applies.
constexpr double kMaxTableEntries = double(1 << 24);

// The greatest common divisor of every option's cost above its group's cheapest, when all costs
// are integers below 2^53; 0 when they are not (or all extras are zero).
int64_t common_unit(const ChoiceProblem& problem) {
  int64_t unit = 0;
  for (const auto& options : problem.groups) {
    double base = std::numeric_limits<double>::infinity();
    for (const auto& op : options) base = std::min(base, op.cost);
    for (const auto& op : options) {
      if (op.cost != std::floor(op.cost) || op.cost > 9e15) return 0;
      unit = std::gcd(unit, int64_t(op.cost - base));
    }
  }
  return unit;
}

}  // namespace

ChoiceSolution solve_knapsack_dp(const ChoiceProblem& problem, double budget, int64_t resolution) {
  check_problem(problem);
  if (resolution < 1) throw Error(cat("knapsack DP: resolution must be >= 1, got ", resolution));
  const double floor_cost = min_total_cost(problem);
  if (floor_cost > budget)
    throw InfeasibleBudget(cat("budget ", budget, " is below the cheapest assignment ", floor_cost), floor_cost, false);
  const size_t groups = problem.groups.size();
  const double slack = budget - floor_cost;
  double unit = slack / double(resolution);
  const int64_t exact_unit = common_unit(problem);
  const double max_units = std::max(double(resolution), kMaxTableEntries / double(std::max<size_t>(groups, 1)) - 1);
  if (exact_unit > 0 && std::floor(slack / double(exact_unit)) <= max_units)
    unit = double(exact_unit);
  int64_t capacity = unit > 0 ? int64_t(std::floor(slack / unit)) : 0;

  // Per group: its Pareto options with their extra cost in units (rounded up).
  struct Step {
    int option;
    int64_t units;
    double score;
  };
  std::vector<std::vector<Step>> steps(groups);
  for (size_t g = 0; g < groups; ++g) {
    const auto& options = problem.groups[g];
    const auto front = pareto_options(options);
    const double base = options[size_t(front.front())].cost;
    for (int o : front) {
      const double extra = options[size_t(o)].cost - base;
      const int64_t units = extra <= 0 ? 0 : unit > 0 ? int64_t(std::ceil(extra / unit)) : capacity + 1;
      if (units <= capacity) steps[g].push_back({o, units, options[size_t(o)].score});
    }
  }
  if (double(groups) * double(capacity + 1) > 16 * kMaxTableEntries)
    throw Error(cat("knapsack DP: ", groups, " groups x ", capacity + 1, " units is too large; lower the resolution"));

  const size_t width = size_t(capacity) + 1;
  std::vector<double> best(width, 0.0), next(width);
  std::vector<uint16_t> taken(groups * width);
  for (size_t g = 0; g < groups; ++g) {
    const auto& s = steps[g];
    uint16_t* row = taken.data() + g * width;
    std::fill(next.begin(), next.end(), std::numeric_limits<double>::infinity());
    // Option-major so the inner loop is a straight min over shifted copies (it vectorises).
    for (size_t i = 0; i < s.size(); ++i) {
      const size_t shift = size_t(s[i].units);
      const double score = s[i].score;
      for (size_t r = shift; r < width; ++r) {
        const double candidate = best[r - shift] + score;
        const bool better = candidate < next[r];
        next[r] = better ? candidate : next[r];
        row[r] = better ? uint16_t(i) : row[r];
      }
    }
    best.swap(next);
  }
  std::vector<int> choice(groups);
  size_t r = width - 1;
  for (size_t g = groups; g-- > 0;) {
    const Step& st = steps[g][taken[g * width + r]];
    choice[g] = st.option;
    r -= size_t(st.units);
  }
  ChoiceSolution solution = greedy_upgrades(problem, budget, choice);
  // Rounding up makes an overshoot impossible in exact arithmetic; in floating point the totals
  // may still land an ulp above the budget, and the budget is a hard limit.
  if (solution.cost > budget && resolution > 1) return solve_knapsack_dp(problem, budget - (solution.cost - budget) - unit, resolution);
  // With coarse units (not exact) the DP can land a hair behind the greedy path on smooth tables;
  // the better of the two is kept, so the result is never worse than the baseline.
  if (unit != double(exact_unit)) {
    ChoiceSolution greedy = solve_greedy(problem, budget);
    if (greedy.score < solution.score) return greedy;
  }
  return solution;
}

}  // namespace abq::methods

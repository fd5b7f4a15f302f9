// The optimisation behind mixed-precision allocation: a multiple-choice knapsack. Each group (a
// site or a set of tied sites) must take exactly one of its options; an option costs `cost` (bits
// of storage, or modelled microseconds) and, for two-budget problems, `cost2`; the objective is the
// sum of the chosen options' scores (the predicted loss, additive over groups by assumption).
//
// Solvers (each in its own file): solve_knapsack_dp (exact at its cost resolution, one budget),
// solve_ilp (GLPK branch-and-cut, one or two budgets), solve_greedy (the marginal-gain baseline of
// ExLlamaV3 / mlx-lm; not optimal). Pure C++: no LibTorch.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "framework/core/error.h"

namespace abq::methods {

struct ChoiceOption {
  double cost = 0;
  double cost2 = 0;
  double score = 0;
};

struct ChoiceProblem {
  std::vector<std::vector<ChoiceOption>> groups;  // every group needs at least one option
};

struct ChoiceBudget {
  double cost = std::numeric_limits<double>::infinity();
  double cost2 = std::numeric_limits<double>::infinity();
};

struct ChoiceSolution {
  std::vector<int> choice;  // option index per group
  double cost = 0;
  double cost2 = 0;
  double score = 0;
};

/// A budget below the cheapest assignment. `smallest` is that cheapest total (of the budget that
/// failed: cost or cost2), so the message can name the smallest feasible value.
struct InfeasibleBudget : Error {
  InfeasibleBudget(const std::string& what, double smallest_feasible, bool second)
      : Error(what), smallest(smallest_feasible), on_cost2(second) {}
  double smallest;
  bool on_cost2;
};

/// Throws abq::Error when a group has no option or an option's cost is negative or not finite.
void check_problem(const ChoiceProblem& problem);

/// The sum of each group's smallest cost (or cost2): the least any assignment spends.
double min_total_cost(const ChoiceProblem& problem, bool second = false);

/// Totals of an assignment.
ChoiceSolution evaluate_choice(const ChoiceProblem& problem, std::vector<int> choice);

/// Indices of a group's options on its Pareto front (no other option is as cheap and strictly
/// better, or cheaper and as good), by increasing cost; ties on both keep the first.
std::vector<int> pareto_options(const std::vector<ChoiceOption>& options);

/// Exact multiple-choice knapsack by dynamic programming over cost units, one budget (`cost`).
/// Costs above each group's cheapest option are counted in units: their greatest common divisor
/// when costs are integers and the slack spans few enough of them for a 2^24-entry table (then the answer is
/// the exact optimum), otherwise (slack) / `resolution`, rounded up so the budget is never
/// exceeded; the slack that rounding leaves is then spent by greedy upgrades, and (coarse units
/// only) the greedy baseline's answer is taken when it is better.
ChoiceSolution solve_knapsack_dp(const ChoiceProblem& problem, double budget, int64_t resolution = int64_t(1) << 16);

/// Integer program through GLPK (binary x per option, one per group, both budgets as rows).
/// Exact; `time_limit_s` bounds the branch-and-cut (an unproven result is an error).
ChoiceSolution solve_ilp(const ChoiceProblem& problem, const ChoiceBudget& budget, double time_limit_s = 60);

/// Greedy marginal gain: from every group's cheapest option, repeatedly take the upgrade with the
/// largest score decrease per unit of cost that still fits. One budget (`cost`).
ChoiceSolution solve_greedy(const ChoiceProblem& problem, double budget);

/// The greedy upgrades from `start` (one Pareto option per group, within budget): what the DP
/// uses to spend the slack its rounding left.
ChoiceSolution greedy_upgrades(const ChoiceProblem& problem, double budget, const std::vector<int>& start);

}  // namespace abq::methods

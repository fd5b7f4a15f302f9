// Greedy marginal gain (the allocators of ExLlamaV3 and mlx-lm): start every group at its cheapest
// Pareto option and keep taking the single upgrade with the best score decrease per extra cost
// that still fits the budget. Not optimal for a knapsack; it is the baseline the exact solvers
// are compared with.
#include <limits>

#include "framework/methods/allocations/choice_problem.h"

namespace abq::methods {

ChoiceSolution greedy_upgrades(const ChoiceProblem& problem, double budget, const std::vector<int>& start) {
  const size_t groups = problem.groups.size();
  std::vector<std::vector<int>> fronts(groups);
  std::vector<size_t> at(groups, 0);
  double spent = 0;
  for (size_t g = 0; g < groups; ++g) {
    fronts[g] = pareto_options(problem.groups[g]);
    for (size_t j = 0; j < fronts[g].size(); ++j)
      if (fronts[g][j] == start.at(g)) at[g] = j;
    if (fronts[g][at[g]] != start[g]) throw Error(cat("greedy: start option ", start[g], " of group ", g, " is dominated"));
    spent += problem.groups[g][size_t(start[g])].cost;
  }
  for (;;) {
    double best_ratio = 0;
    size_t best_group = groups, best_step = 0;
    for (size_t g = 0; g < groups; ++g) {
      const auto& options = problem.groups[g];
      const ChoiceOption& now = options[size_t(fronts[g][at[g]])];
      for (size_t j = at[g] + 1; j < fronts[g].size(); ++j) {
        const ChoiceOption& up = options[size_t(fronts[g][j])];
        const double extra = up.cost - now.cost;
        if (spent + extra > budget) break;  // front is sorted by cost
        const double gain = now.score - up.score;
        const double ratio = extra > 0 ? gain / extra : std::numeric_limits<double>::infinity();
        if (gain > 0 && ratio > best_ratio) {
          best_ratio = ratio;
          best_group = g;
          best_step = j;
        }
      }
    }
    if (best_group == groups) break;
    const auto& options = problem.groups[best_group];
    spent += options[size_t(fronts[best_group][best_step])].cost - options[size_t(fronts[best_group][at[best_group]])].cost;
    at[best_group] = best_step;
  }
  std::vector<int> choice(groups);
  for (size_t g = 0; g < groups; ++g) choice[g] = fronts[g][at[g]];
  return evaluate_choice(problem, std::move(choice));
}

ChoiceSolution solve_greedy(const ChoiceProblem& problem, double budget) {
  check_problem(problem);
  const double floor_cost = min_total_cost(problem);
  if (floor_cost > budget)
    throw InfeasibleBudget(cat("budget ", budget, " is below the cheapest assignment ", floor_cost), floor_cost, false);
  std::vector<int> cheapest;
  for (const auto& options : problem.groups) cheapest.push_back(pareto_options(options).front());
  return greedy_upgrades(problem, budget, cheapest);
}

}  // namespace abq::methods

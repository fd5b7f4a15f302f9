#include "framework/methods/allocations/choice_problem.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace abq::methods {

void check_problem(const ChoiceProblem& problem) {
  for (size_t g = 0; g < problem.groups.size(); ++g) {
    if (problem.groups[g].empty()) throw Error(cat("choice problem: group ", g, " has no option"));
    for (size_t o = 0; o < problem.groups[g].size(); ++o) {
      const auto& op = problem.groups[g][o];
      if (!std::isfinite(op.cost) || op.cost < 0 || !std::isfinite(op.cost2) || op.cost2 < 0)
        throw Error(cat("choice problem: group ", g, " option ", o, " has cost ", op.cost, " / ", op.cost2,
                        " (need finite, >= 0)"));
      if (!std::isfinite(op.score))
        throw Error(cat("choice problem: group ", g, " option ", o, " has a non-finite score ", op.score));
    }
  }
}

double min_total_cost(const ChoiceProblem& problem, bool second) {
  double total = 0;
  for (const auto& options : problem.groups) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& op : options) best = std::min(best, second ? op.cost2 : op.cost);
    total += best;
  }
  return total;
}

ChoiceSolution evaluate_choice(const ChoiceProblem& problem, std::vector<int> choice) {
  ChoiceSolution s;
  for (size_t g = 0; g < problem.groups.size(); ++g) {
    const auto& op = problem.groups[g].at(size_t(choice.at(g)));
    s.cost += op.cost;
    s.cost2 += op.cost2;
    s.score += op.score;
  }
  s.choice = std::move(choice);
  return s;
}

std::vector<int> pareto_options(const std::vector<ChoiceOption>& options) {
  std::vector<int> order(options.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (options[a].cost != options[b].cost) return options[a].cost < options[b].cost;
    return options[a].score < options[b].score;
  });
  std::vector<int> front;
  double best = std::numeric_limits<double>::infinity();
  for (int i : order)
    if (options[i].score < best) {
      front.push_back(i);
      best = options[i].score;
    }
  return front;
}

}  // namespace abq::methods

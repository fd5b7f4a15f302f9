// The allocation solvers against brute-force enumeration (every assignment of ≤ 10 groups), a
// hand-solved two-group case, budget feasibility on random instances and the metamorphic rules of
// an exact solver (more budget never raises the objective; scaling scores keeps the answer).
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "framework/methods/allocations/choice_problem.h"

namespace abq::methods {
namespace {

// The exact optimum by enumerating every assignment (the reference for DP and ILP).
ChoiceSolution brute_force(const ChoiceProblem& p, const ChoiceBudget& b) {
  ChoiceSolution best;
  best.score = std::numeric_limits<double>::infinity();
  std::vector<int> choice(p.groups.size(), 0);
  std::function<void(size_t)> walk = [&](size_t g) {
    if (g == p.groups.size()) {
      auto s = evaluate_choice(p, choice);
      if (s.cost <= b.cost && s.cost2 <= b.cost2 && s.score < best.score) best = s;
      return;
    }
    for (size_t o = 0; o < p.groups[g].size(); ++o) {
      choice[g] = int(o);
      walk(g + 1);
    }
  };
  walk(0);
  return best;
}

// Groups with integer bit costs (like weight storage) and scores falling with cost plus noise.
ChoiceProblem random_problem(std::mt19937& rng, int groups, int options) {
  std::uniform_int_distribution<int> params(1, 40);
  std::uniform_real_distribution<double> noise(0.5, 1.5), lat(1, 10);
  ChoiceProblem p;
  for (int g = 0; g < groups; ++g) {
    const int n = params(rng);
    std::vector<ChoiceOption> ops;
    for (int o = 0; o < options; ++o) {
      const int bits = 2 + o;
      ops.push_back({double(n * bits + (o % 2) * 3), lat(rng) * bits, noise(rng) * n * std::pow(4.0, -bits)});
    }
    p.groups.push_back(ops);
  }
  return p;
}

TEST(ChoiceSolvers, TwoGroupsHandSolved) {
  // Group a: {cost 2, score 10}, {cost 4, score 1}; group b: {cost 2, score 5}, {cost 4, score 4}.
  // Budget 6: (a4, b2) = 1 + 5 = 6 beats (a2, b4) = 14; budget 8 takes both upgrades (5); budget
  // 4 allows only the cheapest (15); greedy upgrades a first (gain 9 per 2) and agrees.
  ChoiceProblem p{{{{2, 0, 10}, {4, 0, 1}}, {{2, 0, 5}, {4, 0, 4}}}};
  for (double budget : {4.0, 6.0, 8.0}) {
    const double expect = budget == 4 ? 15 : budget == 6 ? 6 : 5;
    EXPECT_EQ(solve_knapsack_dp(p, budget).score, expect) << budget;
    EXPECT_EQ(solve_ilp(p, {budget}).score, expect) << budget;
    EXPECT_EQ(solve_greedy(p, budget).score, expect) << budget;
  }
  EXPECT_EQ(solve_knapsack_dp(p, 6).choice, (std::vector<int>{1, 0}));
}

TEST(ChoiceSolvers, DynamicProgramAndIlpEqualBruteForceAndGreedyIsNoBetter) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    const int groups = 2 + trial % 9;  // 2..10 groups
    const ChoiceProblem p = random_problem(rng, groups, 3);
    const double lo = min_total_cost(p), hi = min_total_cost(p) * 2.2;
    const double budget = std::floor(lo + (hi - lo) * (trial % 7) / 6.0);
    const auto exact = brute_force(p, {budget});
    const auto dp = solve_knapsack_dp(p, budget);
    const auto ilp = solve_ilp(p, {budget});
    const auto greedy = solve_greedy(p, budget);
    EXPECT_NEAR(dp.score, exact.score, 1e-12 * exact.score) << trial;
    EXPECT_NEAR(ilp.score, exact.score, 1e-9 * exact.score) << trial;
    EXPECT_GE(greedy.score, exact.score - 1e-12 * exact.score) << trial;
    for (const auto* s : {&dp, &ilp, &greedy}) EXPECT_LE(s->cost, budget) << trial;
  }
}

TEST(ChoiceSolvers, IlpWithTwoBudgetsEqualsBruteForce) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    const ChoiceProblem p = random_problem(rng, 3 + trial % 6, 4);
    const ChoiceBudget b{min_total_cost(p) * 1.4, min_total_cost(p, true) * 1.5};
    const auto exact = brute_force(p, b);
    if (!std::isfinite(exact.score)) {
      EXPECT_THROW(solve_ilp(p, b), Error);
      continue;
    }
    const auto ilp = solve_ilp(p, b);
    EXPECT_NEAR(ilp.score, exact.score, 1e-9 * exact.score) << trial;
    EXPECT_LE(ilp.cost, b.cost);
    EXPECT_LE(ilp.cost2, b.cost2);
  }
}

TEST(ChoiceSolvers, BudgetIsNeverExceededOnLargeRandomInstances) {
  // Costs far above the DP's resolution, so units are coarse and rounded up: still within budget.
  std::mt19937 rng(3);
  for (int trial = 0; trial < 10; ++trial) {
    ChoiceProblem p = random_problem(rng, 200, 5);
    for (auto& g : p.groups)
      for (auto& o : g) o.cost *= 1e5 + trial;
    const double budget = min_total_cost(p) * (1.1 + 0.1 * trial);
    for (int64_t resolution : {int64_t(64), int64_t(4096), int64_t(1) << 16}) {
      const auto dp = solve_knapsack_dp(p, budget, resolution);
      EXPECT_LE(dp.cost, budget) << trial << " " << resolution;
    }
    EXPECT_LE(solve_greedy(p, budget).cost, budget);
  }
}

TEST(ChoiceSolvers, MoreBudgetNeverRaisesTheOptimumAndScalingScoresKeepsTheChoice) {
  std::mt19937 rng(5);
  const ChoiceProblem p = random_problem(rng, 8, 4);
  double previous = std::numeric_limits<double>::infinity();
  for (double f = 1.0; f <= 2.6; f += 0.1) {
    const auto dp = solve_knapsack_dp(p, std::floor(min_total_cost(p) * f));
    EXPECT_LE(dp.score, previous + 1e-15);
    previous = dp.score;
    ChoiceProblem scaled = p;
    for (auto& g : scaled.groups)
      for (auto& o : g) o.score *= 37.5;
    EXPECT_EQ(solve_knapsack_dp(scaled, std::floor(min_total_cost(p) * f)).choice, dp.choice);
  }
}

TEST(ChoiceSolvers, DominatedOptionsNeverChangeTheAnswer) {
  std::mt19937 rng(9);
  ChoiceProblem p = random_problem(rng, 6, 3);
  const double budget = std::floor(min_total_cost(p) * 1.5);
  const auto before = solve_knapsack_dp(p, budget);
  ChoiceProblem more = p;
  for (auto& g : more.groups) g.push_back({g.back().cost + 5, 0, g.back().score * 2});  // dearer and worse
  EXPECT_DOUBLE_EQ(solve_knapsack_dp(more, budget).score, before.score);
}

TEST(ChoiceSolvers, InfeasibleBudgetNamesTheSmallestFeasibleValue) {
  ChoiceProblem p{{{{3, 1, 1}, {5, 2, 0}}, {{4, 1, 1}}}};
  try {
    solve_knapsack_dp(p, 6);
    FAIL();
  } catch (const InfeasibleBudget& e) {
    EXPECT_EQ(e.smallest, 7);
  }
  EXPECT_THROW(solve_greedy(p, 6.5), InfeasibleBudget);
  try {
    solve_ilp(p, {100, 1.5});
    FAIL();
  } catch (const InfeasibleBudget& e) {
    EXPECT_EQ(e.smallest, 2);
    EXPECT_TRUE(e.on_cost2);
  }
}

// LLaMA-70B-sized: 80 blocks x 7 linears = 560 groups x 20 candidates, synthetic scores: the DP
// (coarse units there, then greedy fill) stays within budget and is no worse than greedy. Its time
// is tools/bench/abq_allocation_solver_bench's business.
TEST(ChoiceSolvers, SeventyBillionSizedProblemStaysInBudgetAndBeatsGreedy) {
  std::mt19937 rng(1);
  const int64_t shapes[7][2] = {{8192, 8192}, {1024, 8192}, {1024, 8192}, {8192, 8192},
                                {28672, 8192}, {28672, 8192}, {8192, 28672}};
  ChoiceProblem p;
  std::uniform_real_distribution<double> sens(0.1, 10);
  for (int layer = 0; layer < 80; ++layer)
    for (const auto& s : shapes) {
      const double params = double(s[0] * s[1]), a = sens(rng);
      std::vector<ChoiceOption> ops;
      for (int c = 0; c < 20; ++c) {
        const double bits = 1.5 + 0.35 * c;
        ops.push_back({std::ceil(params * bits), 0, a * params * std::pow(2.0, -2 * bits)});
      }
      p.groups.push_back(ops);
    }
  double params = 0;
  for (const auto& g : p.groups) params += g.front().cost / 1.5;
  const double budget = 3.0 * params;
  const auto dp = solve_knapsack_dp(p, budget);
  const auto greedy = solve_greedy(p, budget);
  EXPECT_LE(dp.cost, budget);
  EXPECT_LE(dp.score, greedy.score * (1 + 1e-9));
}

}  // namespace
}  // namespace abq::methods

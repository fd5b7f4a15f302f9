// The allocation integer program through GLPK (glpk.h, Debian's libglpk-dev):
//   minimise Σ s_go x_go  subject to  Σ_o x_go = 1 per group,  Σ c_go x_go ≤ B,  Σ c2_go x_go ≤ B2,
//   x binary. Dominated options are kept (with two budgets an option dominated in cost and score
// may still be the cheap one in cost2).
#include <glpk.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "framework/methods/allocations/choice_problem.h"

namespace abq::methods {
namespace {

struct ProblemDeleter {
  void operator()(glp_prob* p) const { glp_delete_prob(p); }
};

// GLPK prints to stdout by default; the solver's status is reported through its return codes.
int silent(void*, const char*) { return 1; }

}  // namespace

ChoiceSolution solve_ilp(const ChoiceProblem& problem, const ChoiceBudget& budget, double time_limit_s) {
  check_problem(problem);
  for (bool second : {false, true}) {
    const double limit = second ? budget.cost2 : budget.cost;
    const double floor_cost = min_total_cost(problem, second);
    if (floor_cost > limit)
      throw InfeasibleBudget(cat(second ? "second budget " : "budget ", limit, " is below the cheapest assignment ", floor_cost),
                             floor_cost, second);
  }
  glp_term_hook(silent, nullptr);
  std::unique_ptr<glp_prob, ProblemDeleter> lp(glp_create_prob());
  glp_set_obj_dir(lp.get(), GLP_MIN);
  const int groups = int(problem.groups.size());
  const int rows = groups + 2;
  glp_add_rows(lp.get(), rows);
  for (int g = 0; g < groups; ++g) glp_set_row_bnds(lp.get(), g + 1, GLP_FX, 1, 1);
  glp_set_row_bnds(lp.get(), groups + 1, std::isfinite(budget.cost) ? GLP_UP : GLP_FR, 0, budget.cost);
  glp_set_row_bnds(lp.get(), groups + 2, std::isfinite(budget.cost2) ? GLP_UP : GLP_FR, 0, budget.cost2);

  // Scores are scaled to a largest |score| of 1e3: GLPK's tolerances are absolute, and sensitivity
  // scores of 1e-6 would otherwise all look alike to them.
  double largest = 0;
  for (const auto& options : problem.groups)
    for (const auto& op : options) largest = std::max(largest, std::abs(op.score));
  const double scale = largest > 0 ? 1e3 / largest : 1;
  std::vector<int> ia{0}, ja{0};
  std::vector<double> ar{0};
  std::vector<std::pair<int, int>> column_of;  // (group, option) per column
  for (int g = 0; g < groups; ++g)
    for (size_t o = 0; o < problem.groups[size_t(g)].size(); ++o) {
      const auto& op = problem.groups[size_t(g)][o];
      const int col = glp_add_cols(lp.get(), 1);
      glp_set_col_kind(lp.get(), col, GLP_BV);
      glp_set_obj_coef(lp.get(), col, op.score * scale);
      column_of.emplace_back(g, int(o));
      for (auto [row, value] : {std::pair<int, double>{g + 1, 1.0}, {groups + 1, op.cost}, {groups + 2, op.cost2}}) {
        ia.push_back(row);
        ja.push_back(col);
        ar.push_back(value);
      }
    }
  glp_load_matrix(lp.get(), int(ia.size()) - 1, ia.data(), ja.data(), ar.data());

  glp_iocp params;
  glp_init_iocp(&params);
  params.presolve = GLP_ON;
  params.msg_lev = GLP_MSG_OFF;
  params.tm_lim = int(std::min(time_limit_s * 1000.0, 2e9));
  const int ret = glp_intopt(lp.get(), &params);
  const int status = glp_mip_status(lp.get());
  if (ret == GLP_ENOPFS || status == GLP_NOFEAS)
    throw Error("ILP: no assignment meets both budgets together (each alone is feasible)");
  if (ret != 0 || status != GLP_OPT)
    throw Error(cat("ILP: GLPK stopped without a proven optimum (glp_intopt returned ", ret, ", status ", status,
                    ")", ret == GLP_ETMLIM ? cat("; time limit ", time_limit_s, " s reached") : ""));
  std::vector<int> choice(size_t(groups), -1);
  for (size_t c = 0; c < column_of.size(); ++c)
    if (glp_mip_col_val(lp.get(), int(c) + 1) > 0.5) choice[size_t(column_of[c].first)] = column_of[c].second;
  for (int g = 0; g < groups; ++g)
    if (choice[size_t(g)] < 0) throw Error(cat("ILP: GLPK's solution picks no option for group ", g));
  ChoiceSolution solution = evaluate_choice(problem, std::move(choice));
  // GLPK accepts rows within its feasibility tolerance; the budget is a hard limit, so tighten the
  // violated row by the overshoot and solve again.
  ChoiceBudget tighter = budget;
  if (solution.cost > budget.cost) tighter.cost -= 2 * (solution.cost - budget.cost);
  if (solution.cost2 > budget.cost2) tighter.cost2 -= 2 * (solution.cost2 - budget.cost2);
  if (tighter.cost != budget.cost || tighter.cost2 != budget.cost2) return solve_ilp(problem, tighter, time_limit_s);
  return solution;
}

}  // namespace abq::methods

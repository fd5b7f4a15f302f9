// Solver time of mixed-precision allocation on synthetic sensitivity tables: LLaMA-70B's 560
// linears (80 blocks x 7, untied) x 20 candidates (1.5..8.15 bits), and SmolLM2-135M's 120 tied
// groups x 5 candidates. Scores follow the uniform-quantizer law a·params·2^(−2·bits) with a
// log-uniform sensitivity a per linear; the budget is 3.0 average bits.
//
//   build/tools/bench/abq_allocation_solver_bench [--ilp]
//
// Prints each solver's wall time, the bits it spent and its objective relative to the DP's.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>

#include "framework/methods/allocations/choice_problem.h"

using namespace abq::methods;

namespace {

struct Instance {
  std::string name;
  ChoiceProblem problem;
  double parameters = 0;
};

Instance synthetic(const std::string& name, int blocks, const std::vector<std::pair<double, double>>& shapes,
                   int candidates, double lo_bits, double step) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> log_a(std::log(0.1), std::log(10.0));
  Instance in{name, {}, 0};
  for (int b = 0; b < blocks; ++b)
    for (const auto& [out, inner] : shapes) {
      const double params = out * inner, a = std::exp(log_a(rng));
      std::vector<ChoiceOption> options;
      for (int c = 0; c < candidates; ++c) {
        const double bits = lo_bits + step * c;
        // Codes plus one fp16 scale and a zero at code width per row (per-channel storage).
        options.push_back({std::ceil(params * bits + out * (16 + std::ceil(bits))), 0, a * params * std::pow(2.0, -2 * bits)});
      }
      in.problem.groups.push_back(options);
      in.parameters += params;
    }
  return in;
}

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const bool ilp = argc > 1 && std::strcmp(argv[1], "--ilp") == 0;
  std::vector<Instance> instances;
  instances.push_back(synthetic("llama-70b 560 x 20", 80,
                                {{8192, 8192}, {1024, 8192}, {1024, 8192}, {8192, 8192}, {28672, 8192}, {28672, 8192}, {8192, 28672}},
                                20, 1.5, 0.35));
  instances.push_back(synthetic("smollm2-135m 120 x 5", 30, {{960, 576}, {576, 576}, {3072, 576}, {576, 1536}}, 5, 2, 1));
  for (const auto& in : instances) {
    const double budget = 3.0 * in.parameters;
    ChoiceSolution dp, greedy, exact;
    const double t_dp = seconds([&] { dp = solve_knapsack_dp(in.problem, budget); });
    const double t_greedy = seconds([&] { greedy = solve_greedy(in.problem, budget); });
    std::printf("%s, budget 3.0 bits/param:\n", in.name.c_str());
    std::fflush(stdout);
    std::printf("  dp      %8.3f s  %.5f bits  objective 1\n", t_dp, dp.cost / in.parameters);
    std::printf("  greedy  %8.3f s  %.5f bits  objective %.6f x dp\n", t_greedy, greedy.cost / in.parameters,
                greedy.score / dp.score);
    if (ilp) {
      std::string failure;
      const double t_ilp = seconds([&] {
        try {
          exact = solve_ilp(in.problem, {budget}, 60);
        } catch (const abq::Error& e) {
          failure = e.what();
        }
      });
      if (failure.empty())
        std::printf("  ilp     %8.3f s  %.5f bits  objective %.6f x dp\n", t_ilp, exact.cost / in.parameters,
                    exact.score / dp.score);
      else
        std::printf("  ilp     %8.3f s  %s\n", t_ilp, failure.c_str());
    }
  }
  return 0;
}

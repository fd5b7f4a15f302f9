// The `mixed` allocation on the tiny model: scores against hand computations (the Hessian proxy
// tr(ΔW H ΔWᵀ) with H captured by a hook), the budget as a hard limit, ties, the infeasible-budget
// message, the predicted Pareto curve, DP = ILP on the real table, and the measurement cache
// (keyed by everything but the budget).
#include "framework/methods/allocations/mixed.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "framework/calib/sensitivity.h"
#include "framework/core/error.h"
#include "framework/methods/allocations/plan_summary.h"
#include "framework/methods/allocations/site_table.h"
#include "framework/methods/registry.h"
#include "framework/model/llama_model.h"
#include "framework/packed/modelled_latency.h"
#include "framework/quant/fake_quant.h"
#include "framework/quant/quant_spec_options.h"
#include "tests/support/tiny_llama_config.h"

namespace abq::methods {
namespace {
namespace fs = std::filesystem;

class Mixed : public ::testing::Test {
 protected:
  model::LlamaModel model = model::make_random_model(test::tiny_llama_config(2, 2), 3);
  std::vector<torch::Tensor> calibration = [] {
    torch::manual_seed(2);
    std::vector<torch::Tensor> w;
    for (int i = 0; i < 4; ++i) w.push_back(torch::randint(0, 64, {1, 16}, torch::kInt64));
    return w;
  }();
  std::vector<SiteInfo> sites = allocation_sites(model::resolve_config(test::tiny_llama_config(2, 2)));
  DefaultSpecs defaults{quant::default_spec(quant::Granularity::per_channel), quant::default_spec(quant::Granularity::per_token),
                        quant::default_spec(quant::Granularity::per_token)};
  calib::CalibrationSensitivity service{model, calibration};
  fs::path cache = fs::path(::testing::TempDir()) / ("mixed_cache_" + std::to_string(::getpid()));
  torch::NoGradGuard no_grad;

  void TearDown() override { fs::remove_all(cache); }

  SitePlan run(const std::string& yaml, AllocationRecord& record, const std::string& digest = "digest-a") {
    const AllocationContext c{sites, defaults, model, calibration, &service, digest, cache.string(), {}, &record};
    return make_allocation("mixed", YAML::Load(yaml))->allocate(c);
  }
  static double row_score(const AllocationRecord& r, const std::string& group, const std::string& candidate) {
    for (const auto& row : r.rows)
      if (row.group == group && row.candidate == candidate) return row.score;
    ADD_FAILURE() << "no row " << group << " / " << candidate;
    return 0;
  }
};

const char* kHessian3 =
    "{measure: hessian, ties: none, budget: {avg_bits: 3.0}, candidates: [{bits: 2}, {bits: 3}, {bits: 4}]}";

TEST_F(Mixed, HessianScoreIsTheTraceOfDeltaWHDeltaWt) {
  // H = 2/N Σ xᵀx of layer 0's down_proj input, by hand; N counts calibration windows, as GPTQ's
  // add_batch does (nsamples), the sum runs over all their tokens.
  torch::Tensor sum = torch::zeros({64, 64}, torch::kFloat64);
  model.set_activation_hook(0, model::SiteKind::down_proj_input, [&](const torch::Tensor& x) {
    auto x2 = x.reshape({-1, x.size(-1)}).to(torch::kFloat64);
    sum += x2.t().matmul(x2);
    return x;
  });
  for (const auto& w : calibration) model.forward(w);
  model.clear_activation_hooks();
  const torch::Tensor h = sum * (2.0 / double(calibration.size()));
  const torch::Tensor w = model.weights().layers[0].linear(model::LinearKind::down_proj).weight;
  quant::QuantSpec w2;
  w2.bits = 2;
  const torch::Tensor dw = (quant::fake_quant(w, w2).fake - w).to(torch::kFloat64);
  const double expected = torch::trace(dw.matmul(h).matmul(dw.t())).item<double>();

  AllocationRecord r;
  run(kHessian3, r);
  EXPECT_NEAR(row_score(r, "layers.0.mlp.down_proj", "w2"), expected, 1e-4 * expected);
  EXPECT_GT(row_score(r, "layers.0.mlp.down_proj", "w2"), row_score(r, "layers.0.mlp.down_proj", "w3"));
}

TEST_F(Mixed, BudgetIsAHardLimitAndTiedLinearsShareACandidate) {
  for (double bits : {2.6, 3.0, 3.4, 4.2}) {
    AllocationRecord r;
    const auto plan = run("{measure: hessian, ties: qkv+gate_up, budget: {avg_bits: " + std::to_string(bits) +
                              "}, candidates: [{bits: 2}, {bits: 3}, {bits: 4}]}",
                          r);
    const auto summary = summarize_plan(plan, sites);
    EXPECT_LE(summary.weight_bits_with_scales, bits + 1e-12) << bits;
    EXPECT_NEAR(r.numbers.at("allocated_bits_per_parameter"), summary.weight_bits_with_scales, 1e-12);
    for (int layer = 0; layer < 2; ++layer) {
      const std::string b = "layers." + std::to_string(layer);
      EXPECT_EQ(plan.at(b + ".self_attn.q_proj.weight").bits, plan.at(b + ".self_attn.v_proj.weight").bits);
      EXPECT_EQ(plan.at(b + ".self_attn.k_proj.weight").bits, plan.at(b + ".self_attn.v_proj.weight").bits);
      EXPECT_EQ(plan.at(b + ".mlp.gate_proj.weight").bits, plan.at(b + ".mlp.up_proj.weight").bits);
    }
    EXPECT_EQ(r.rows.size(), size_t(2 * 4 * 3));  // 4 groups per block x 3 candidates
  }
}

TEST_F(Mixed, TiedGroupScoresAreTheSumOfTheirMembersUnderTheLocalProxy) {
  AllocationRecord tied, apart;
  run("{measure: hessian, ties: qkv, budget: {avg_bits: 3.0}, candidates: [{bits: 2}, {bits: 3}, {bits: 4}]}", tied);
  run(kHessian3, apart);
  const double sum = row_score(apart, "layers.1.self_attn.q_proj", "w3") + row_score(apart, "layers.1.self_attn.k_proj", "w3") +
                     row_score(apart, "layers.1.self_attn.v_proj", "w3");
  EXPECT_NEAR(row_score(tied, "layers.1.self_attn.qkv_proj", "w3"), sum, 1e-9 * sum);
}

TEST_F(Mixed, InfeasibleBudgetNamesTheSmallestFeasibleValue) {
  AllocationRecord r;
  try {
    run("{measure: hessian, budget: {avg_bits: 1.5}, candidates: [{bits: 2}, {bits: 3}]}", r);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    // All at 2 bits per channel, by hand: per block 9216 weights at 2 bits plus 256 rows with an
    // fp16 scale and a 2-bit zero: (2·9216 + 18·256) / 9216 = 2.5 bits per parameter.
    const std::string what = e.what();
    EXPECT_NE(what.find("budget.avg_bits: 1.5 is infeasible; the smallest feasible value is 2.5 "), std::string::npos) << what;
    EXPECT_NE(what.find("(scales included)"), std::string::npos) << what;
  }
}

TEST_F(Mixed, MoreBudgetNeverPredictsMoreLossAndDpEqualsIlp) {
  AllocationRecord r;
  run("{measure: block_mse, ties: none, pareto_points: 12, budget: {avg_bits: 3.0}, candidates: [{bits: 2}, {bits: 3}, "
      "{bits: 4}, {bits: 2, bit_balance: true}]}",
      r);
  ASSERT_EQ(r.pareto.size(), 12u);
  for (size_t i = 1; i < r.pareto.size(); ++i) {
    EXPECT_GT(r.pareto[i].first, r.pareto[i - 1].first);
    EXPECT_LE(r.pareto[i].second, r.pareto[i - 1].second);
  }
  AllocationRecord ilp;
  run("{measure: block_mse, ties: none, solver: ilp, budget: {avg_bits: 3.0}, candidates: [{bits: 2}, {bits: 3}, "
      "{bits: 4}, {bits: 2, bit_balance: true}]}",
      ilp);
  EXPECT_NEAR(ilp.numbers.at("predicted_loss"), r.numbers.at("predicted_loss"), 1e-9 * r.numbers.at("predicted_loss"));
  EXPECT_EQ(ilp.attributes.at("sensitivity_from_cache"), "true");  // the solver is not in the key
}

TEST_F(Mixed, ASecondBudgetReadsTheCacheAndEverythingElseIsInTheKey) {
  AllocationRecord first, second, other_measure, other_model;
  run(kHessian3, first);
  EXPECT_EQ(first.attributes.at("sensitivity_from_cache"), "false");
  run("{measure: hessian, ties: none, budget: {avg_bits: 3.5}, candidates: [{bits: 2}, {bits: 3}, {bits: 4}]}", second);
  EXPECT_EQ(second.attributes.at("sensitivity_from_cache"), "true");
  EXPECT_EQ(second.numbers.at("measure_seconds"), 0.0);
  EXPECT_EQ(second.attributes.at("sensitivity_key"), first.attributes.at("sensitivity_key"));
  for (size_t i = 0; i < first.rows.size(); ++i) EXPECT_EQ(second.rows[i].score, first.rows[i].score);  // bit for bit
  run("{measure: block_mse, ties: none, budget: {avg_bits: 3.0}, candidates: [{bits: 2}, {bits: 3}, {bits: 4}]}", other_measure);
  EXPECT_NE(other_measure.attributes.at("sensitivity_key"), first.attributes.at("sensitivity_key"));
  run(kHessian3, other_model, "digest-b");
  EXPECT_EQ(other_model.attributes.at("sensitivity_from_cache"), "false");
  AllocationRecord other_candidates;
  run("{measure: hessian, ties: none, budget: {avg_bits: 3.0}, candidates: [{bits: 2}, {bits: 4}]}", other_candidates);
  EXPECT_EQ(other_candidates.attributes.at("sensitivity_from_cache"), "false");
  calibration.pop_back();  // other calibration windows
  AllocationRecord other_data;
  calib::CalibrationSensitivity fewer(model, calibration);
  const AllocationContext c{sites, defaults, model, calibration, &fewer, "digest-a", cache.string(), {}, &other_data};
  make_allocation("mixed", YAML::Load(kHessian3))->allocate(c);
  EXPECT_EQ(other_data.attributes.at("sensitivity_from_cache"), "false");
}

TEST_F(Mixed, WeightOnlyMeasuresRefuseActivationCandidates) {
  AllocationRecord r;
  EXPECT_THROW(run("{measure: fisher, budget: {avg_bits: 9}, candidates: [{bits: 4}, {bits: 8, activations: {bits: 8}}]}", r),
               ConfigError);
  // A measured one scores them: with activations quantized too, the error only grows.
  run("{measure: block_mse, ties: none, budget: {avg_bits: 9}, candidates: [{bits: 8}, {bits: 8, activations: {bits: 4}}]}", r);
  EXPECT_GT(row_score(r, "layers.0.mlp.down_proj", "w8 a4t"), row_score(r, "layers.0.mlp.down_proj", "w8"));
}


TEST_F(Mixed, TheHandHeuristicGivesFirstLastAndDownProjMoreBitsWithinTheSameBudget) {
  // Tiny model with 4 blocks: blocks 0 and 3 and every down_proj are protected (score x16).
  model = model::make_random_model(test::tiny_llama_config(4, 2), 3);
  sites = allocation_sites(model::resolve_config(test::tiny_llama_config(4, 2)));
  const std::vector<torch::Tensor> none;  // data-free: no calibration needed
  AllocationRecord r;
  const AllocationContext c{sites, defaults, model, none, nullptr, "", "", {}, &r};
  const auto plan = make_allocation("mixed", YAML::Load("{measure: heuristic, ties: none, budget: {avg_bits: 3.2}, "
                                                        "candidates: [{bits: 2}, {bits: 3}, {bits: 4}]}"))
                        ->allocate(c);
  EXPECT_LE(summarize_plan(plan, sites).weight_bits_with_scales, 3.2);
  const int first = plan.at("layers.0.self_attn.q_proj.weight").bits, middle = plan.at("layers.1.self_attn.q_proj.weight").bits;
  EXPECT_GT(first, middle);
  EXPECT_GT(plan.at("layers.1.mlp.down_proj.weight").bits, plan.at("layers.1.mlp.up_proj.weight").bits);
  EXPECT_EQ(plan.at("layers.3.mlp.up_proj.weight").bits, first);
}

TEST_F(Mixed, ALatencyBudgetCostsTheChosenSpecsWithTheKernelsModel) {
  // The modelled time of a plan, summed by hand over its weight sites (M = 1, inputs unquantized).
  const auto plan_time = [&](const SitePlan& plan) {
    double us = 0;
    for (const auto& s : sites)
      if (s.role == SiteRole::weight)
        us += packed::modelled_linear_time_us(plan.at(s.name), defaults.activations, s.out_features, s.in_features, 1);
    return us;
  };
  const auto uniform = [&](int bits) {
    SitePlan plan;
    for (const auto& s : sites) {
      quant::QuantSpec w = defaults.weights;
      w.bits = bits;
      if (s.role == SiteRole::weight) plan[s.name] = w;
    }
    return plan;
  };
  const double cheapest = plan_time(uniform(2)), dearest = plan_time(uniform(8));
  // The budget as the YAML spells it (std::to_string rounds to 6 decimals).
  const double budget = std::stod(std::to_string((cheapest + dearest) / 2));
  AllocationRecord r;
  const AllocationContext c{sites, defaults, model, calibration, &service, "digest-a", cache.string(),
                            packed::modelled_linear_time_us, &r};
  const auto options = [](double us) {
    return YAML::Load("{measure: hessian, ties: none, latency_tokens: 1, budget: {latency_us: " + std::to_string(us) +
                      "}, candidates: [{bits: 2}, {bits: 4}, {bits: 8}]}");
  };
  const auto plan = make_allocation("mixed", options(budget))->allocate(c);
  const double spent = plan_time(plan);
  EXPECT_LE(spent, budget);
  EXPECT_GT(spent, cheapest);  // the budget buys upgrades
  EXPECT_NEAR(r.numbers.at("allocated_latency_us"), spent, 1e-6 * spent);
  double chosen_rows = 0;
  for (const auto& row : r.rows)
    if (row.chosen) chosen_rows += row.latency_us;
  EXPECT_NEAR(chosen_rows, spent, 1e-6 * spent);
  try {
    make_allocation("mixed", options(cheapest * 0.9))->allocate(c);
    ADD_FAILURE() << "a budget below the all-2-bit time was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("budget.latency_us"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace abq::methods

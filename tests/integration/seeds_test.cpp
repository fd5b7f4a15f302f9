// `seeds:` expansion and the mean ± std rows of the results table. Expected values: hand
// computation (mean and sample standard deviation of 1, 2, 4: 7/3 and sqrt(7/3) = 1.528), the
// run naming documented in load_experiment.cpp (`<run>/seed=N`), and the rule that `seeds` is not
// part of a run's config (a seed equal to calibration.seed's value gives the unseeded run's id).
#include <gtest/gtest.h>

#include "experiments/runner/load_experiment.h"
#include "experiments/runner/results_table.h"
#include "framework/core/error.h"

using namespace abq;

namespace {

const std::string kFixtures = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/";

TEST(Seeds, EveryRunIsRepeatedPerCalibrationSeedAndTheDefaultSeedKeepsItsRunId) {
  const auto plain = runner::load_experiment(kFixtures + "tiny_sweep.yaml", {});
  const auto seeded = runner::load_experiment(kFixtures + "tiny_sweep.yaml", {"seeds=[0, 1, 2]"});
  ASSERT_EQ(plain.size(), 4u);
  ASSERT_EQ(seeded.size(), 12u);
  EXPECT_EQ(seeded[0].run_name(), "rtn/quant.weights.bits=3/seed=0");
  EXPECT_EQ(seeded[0].seed_group, "rtn/quant.weights.bits=3");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(seeded[size_t(i)].calibration.seed, uint64_t(i));
  EXPECT_NE(seeded[0].run_id, seeded[1].run_id);
  EXPECT_EQ(seeded[2].run_id, plain[0].run_id);  // the fixture's calibration.seed is 2
  EXPECT_TRUE(plain[0].seed_group.empty());
}

TEST(Seeds, AMalformedSeedsListIsAConfigErrorAtItsKey) {
  try {
    runner::load_experiment(kFixtures + "tiny_sweep.yaml", {"seeds=[0, x]"});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("seeds"), std::string::npos) << e.what();
  }
}

store::RunRecord seeded_run(const std::string& id, int seed, double ppl, store::RunStatus status) {
  store::RunRecord r;
  r.run_id = id;
  r.status = status;
  r.attributes = {{"name", "w4/seed=" + std::to_string(seed)}, {"seed_group", "w4"}, {"experiment", "e"},
                  {"setting", "W4A16KV16"}};
  r.metrics = {{"ppl", "heldout", "p", ppl, NAN, 10}};
  return r;
}

TEST(Seeds, ResultsTableShowsOneRowPerGroupWithMeanAndSampleStd) {
  std::vector<store::RunRecord> runs = {seeded_run("a", 0, 1, store::RunStatus::complete),
                                        seeded_run("b", 1, 2, store::RunStatus::complete),
                                        seeded_run("c", 2, 4, store::RunStatus::complete)};
  store::RunRecord other;
  other.run_id = "d";
  other.status = store::RunStatus::complete;
  other.attributes = {{"name", "fp"}, {"setting", "W16A16KV16"}};
  other.metrics = {{"ppl", "heldout", "p", 3.5, NAN, 10}};
  runs.push_back(other);
  const auto table = runner::metrics_table(runs, [](const store::MetricRow&) { return true; });
  EXPECT_NE(table.text.find("w4 (3 seeds)"), std::string::npos) << table.text;
  EXPECT_NE(table.text.find("2.333 ± 1.528"), std::string::npos) << table.text;
  EXPECT_NE(table.text.find("3.500"), std::string::npos) << table.text;
  EXPECT_EQ(table.text.find("seed=1"), std::string::npos) << table.text;

  // A failed seed is left out of the statistics and the row says so.
  runs[2].status = store::RunStatus::failed;
  const auto partial = runner::metrics_table(runs, [](const store::MetricRow&) { return true; });
  EXPECT_NE(partial.text.find("2/3 complete"), std::string::npos) << partial.text;
  EXPECT_NE(partial.text.find("1.500 ± 0.707"), std::string::npos) << partial.text;
}

TEST(Seeds, MeanStdTextOfOneValueIsTheValue) {
  EXPECT_EQ(runner::mean_std_text({}), "-");
  EXPECT_EQ(runner::mean_std_text({5.25}), "5.250");
}

}  // namespace

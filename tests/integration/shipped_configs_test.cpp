// Every YAML file shipped under experiments/ validates against the schema, and every fragment
// under configs/ validates when included by a minimal experiment (walks the trees recursively).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "experiments/runner/load_experiment.h"
#include "framework/core/error.h"

namespace fs = std::filesystem;

TEST(ShippedConfigs, ExperimentsValidate) {
  int count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(std::string(ABQ_SOURCE_DIR) + "/experiments")) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    try {
      auto specs = abq::runner::load_experiment(entry.path().string(), {});
      EXPECT_FALSE(specs.empty()) << entry.path();
    } catch (const abq::Error& e) {
      ADD_FAILURE() << entry.path() << ":\n" << e.what();
    }
  }
  EXPECT_GE(count, 2);
}

TEST(ShippedConfigs, FragmentsValidate) {
  int count = 0;
  const std::string calibration = std::string(ABQ_SOURCE_DIR) + "/configs/data/sotu_calibration.yaml";
  for (const auto& entry : fs::recursive_directory_iterator(std::string(ABQ_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    // Report specs are no experiment fragments (tests/unit/report/report_spec_test.cpp loads them).
    if (entry.path().parent_path().filename() == "reports") continue;
    ++count;
    std::string wrapper = ::testing::TempDir() + "/fragment_wrapper.yaml";
    // Method presets need calibration data (validation checks it is set, not read): the shipped
    // calibration fragment comes first, so the fragment under test overrides it.
    std::ofstream(wrapper) << "name: fragment\nresults: out.h5\ninclude: [" << calibration << ", "
                           << fs::absolute(entry.path()).string() << "]\n";
    try {
      abq::runner::load_experiment(wrapper, {});
    } catch (const abq::Error& e) {
      ADD_FAILURE() << entry.path() << ":\n" << e.what();
    }
  }
  EXPECT_GE(count, 5);
}

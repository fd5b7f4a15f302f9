// calibration.source: the windows each source draws equal those of an independent CPython
// re-implementation of the reference loaders (tests/fixtures/pipeline/calibration_windows.json,
// written by tools/fixtures/pipeline_calibration_windows.py with the byte tokenizer).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "experiments/runner/load_experiment.h"
#include "framework/core/error.h"
#include "framework/pipeline/calibration_data.h"
#include "framework/tokenize/tokenizer.h"

namespace {

const std::string kFixtures = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/pipeline/";

nlohmann::json fixture() {
  std::ifstream in(kFixtures + "calibration_windows.json");
  EXPECT_TRUE(in.good()) << "missing fixture; run tools/fixtures/pipeline_calibration_windows.py";
  return nlohmann::json::parse(in);
}

TEST(CalibrationSources, WindowsEqualTheReferenceLoaders) {
  const auto doc = fixture();
  const auto tokenizer = abq::tokenize::make_byte_tokenizer();
  const std::map<std::string, std::string> file = {{"text", doc["files"]["wiki"]},
                                                   {"wikitext2", doc["files"]["wiki"]},
                                                   {"ptb", doc["files"]["ptb"]},
                                                   {"c4", doc["files"]["c4"]}};
  for (const auto& source : abq::pipeline::calibration_sources()) {
    SCOPED_TRACE(source);
    const auto windows = abq::pipeline::draw_calibration_windows(
        source, kFixtures + file.at(source), *tokenizer, doc["samples"].get<int64_t>(), doc["seqlen"].get<int64_t>(),
        doc["seed"].get<uint64_t>());
    EXPECT_EQ(windows, doc["windows"][source].get<std::vector<std::vector<int64_t>>>());
  }
  // The joins matter: the wikitext2 and ptb streams differ from the raw files'.
  EXPECT_NE(doc["windows"]["text"], doc["windows"]["wikitext2"]);
}

TEST(CalibrationSources, ATooShortCorpusNamesTheFileAndSource) {
  const auto tokenizer = abq::tokenize::make_byte_tokenizer();
  try {
    abq::pipeline::draw_calibration_windows("ptb", kFixtures + "ptb.train.txt", *tokenizer, 2, 100000, 2);
    FAIL() << "expected abq::Error";
  } catch (const abq::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("source ptb"), std::string::npos) << what;
    EXPECT_NE(what.find("ptb.train.txt"), std::string::npos) << what;
  }
}

// A misspelt source, and the awq keys the plan now owns, are validation errors at their keys.
TEST(CalibrationSources, BadKeysAreValidationErrorsAtTheirKeys) {
  const auto dir = std::filesystem::temp_directory_path() / ("calib-src-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto error_of = [&](const std::string& body) -> std::string {
    const std::string path = (dir / "x.yaml").string();
    std::ofstream(path) << "name: x\nresults: " << (dir / "x.h5").string() << "\n" << body;
    try {
      abq::runner::load_experiment(path, {});
    } catch (const abq::ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  };
  const std::string data = std::string(ABQ_SOURCE_DIR) + "/experiments/data/sotu/calibration.txt";
  const auto source = error_of("calibration: {data: " + data + ", source: wikitext}\n");
  EXPECT_NE(source.find("x.yaml:3:"), std::string::npos) << source;
  EXPECT_NE(source.find("wikitext2"), std::string::npos) << source;  // the allowed names are listed
  const auto awq = error_of("calibration: {data: " + data + "}\nquant:\n  corrections: [{type: awq, bits: 3}]\n");
  EXPECT_NE(awq.find("x.yaml:5:"), std::string::npos) << awq;
  EXPECT_NE(awq.find("bits"), std::string::npos) << awq;
  std::filesystem::remove_all(dir);
}

}  // namespace

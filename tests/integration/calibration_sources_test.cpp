// calibration.source: the windows each source draws equal those of an independent CPython
// re-implementation of the reference loaders (tests/fixtures/pipeline/calibration_windows.json,
// written by tools/fixtures/pipeline_calibration_windows.py with the byte tokenizer).
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

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

}  // namespace

// Expected variants are enumerated by hand from tests/fixtures/config/sweep.yaml and the inline
// documents (runs outermost, sweep keys in written order, first key varying slowest).
#include "framework/config/variants.h"

#include <functional>

#include <gtest/gtest.h>

#include "framework/config/loader.h"
#include "framework/config/overrides.h"
#include "framework/core/error.h"

namespace abq::config {
namespace {

const std::string kDir = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/config/";

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const ConfigError& e) {
    return e.message();
  }
  return "(no error)";
}

TEST(Variants, NoRunsOrSweepIsOneUnnamedVariant) {
  const Document doc = parse_config("a: 1\n", "x.yaml");
  const auto variants = expand_variants(doc);
  ASSERT_EQ(variants.size(), 1u);
  EXPECT_EQ(variants[0].name, "");
  EXPECT_EQ(variants[0].document.root()["a"].Scalar(), "1");
}

TEST(Variants, RunsAreNamedAndApplied) {
  const Document doc = parse_config(
      "q: {bits: 4}\nruns:\n  - name: base\n  - name: w3\n    set: {q.bits: 3, q.group.size: 64}\n", "x.yaml");
  const auto variants = expand_variants(doc);
  ASSERT_EQ(variants.size(), 2u);
  EXPECT_EQ(variants[0].name, "base");
  EXPECT_EQ(variants[0].document.root()["q"]["bits"].Scalar(), "4");
  EXPECT_FALSE(variants[0].document.root()["runs"]);
  EXPECT_EQ(variants[1].name, "w3");
  EXPECT_EQ(variants[1].document.root()["q"]["bits"].Scalar(), "3");
  EXPECT_EQ(variants[1].document.root()["q"]["group"]["size"].Scalar(), "64");
  // Applied values point at the `set:` entry they came from.
  EXPECT_EQ(variants[1].document.locate({"q", "bits"}).describe(), "x.yaml:5:19");
  EXPECT_EQ(variants[1].document.locate({"q", "bits"}, true).describe(), "x.yaml:5:11");
  // The base document is untouched.
  EXPECT_EQ(doc.root()["q"]["bits"].Scalar(), "4");
}

TEST(Variants, SweepIsACartesianProductInKeyOrder) {
  const Document doc = parse_config("q: {bits: 4}\nsweep:\n  q.bits: [2, 3]\n  seed: [0, 1, 2]\n", "x.yaml");
  const auto variants = expand_variants(doc);
  const std::vector<std::string> names = {"q.bits=2,seed=0", "q.bits=2,seed=1", "q.bits=2,seed=2",
                                          "q.bits=3,seed=0", "q.bits=3,seed=1", "q.bits=3,seed=2"};
  ASSERT_EQ(variants.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(variants[i].name, names[i]);
    EXPECT_EQ(variants[i].document.root()["q"]["bits"].Scalar(), i < 3 ? "2" : "3");
    EXPECT_EQ(variants[i].document.root()["seed"].Scalar(), std::to_string(i % 3));
    EXPECT_FALSE(variants[i].document.root()["sweep"]);
  }
  EXPECT_EQ(variants[4].document.locate({"seed"}).describe(), "x.yaml:4:13");
  EXPECT_EQ(variants[4].document.locate({"seed"}, true).describe(), "x.yaml:4:3");
}

TEST(Variants, RunsAndSweepCombine) {
  const auto variants = expand_variants(load_config(kDir + "sweep.yaml"));
  const std::vector<std::string> names = {
      "g128/quant.weights.bits=2,calibration.seed=0", "g128/quant.weights.bits=2,calibration.seed=1",
      "g128/quant.weights.bits=3,calibration.seed=0", "g128/quant.weights.bits=3,calibration.seed=1",
      "g64/quant.weights.bits=2,calibration.seed=0",  "g64/quant.weights.bits=2,calibration.seed=1",
      "g64/quant.weights.bits=3,calibration.seed=0",  "g64/quant.weights.bits=3,calibration.seed=1"};
  ASSERT_EQ(variants.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(variants[i].name, names[i]);
    const YAML::Node& root = variants[i].document.root();
    EXPECT_EQ(root["quant"]["weights"]["group_size"].Scalar(), i < 4 ? "128" : "64");
    EXPECT_EQ(root["quant"]["weights"]["bits"].Scalar(), (i / 2) % 2 ? "3" : "2");
    EXPECT_EQ(root["calibration"]["seed"].Scalar(), i % 2 ? "1" : "0");
  }
}

TEST(Variants, MalformedEntriesAreReportedTogether) {
  const Document doc = parse_config(
      "runs:\n  - {name: a, sett: {x: 1}}\n  - {set: {x: 2}}\n  - {name: a}\nsweep:\n  x: 3\n  y: []\n", "x.yaml");
  EXPECT_EQ(error_of([&] { expand_variants(doc); }),
            "x.yaml:2:15: unknown key 'sett' in runs[0]\n"
            "  - {name: a, sett: {x: 1}}\n"
            "              ^ did you mean 'set'? allowed: name, set\n"
            "x.yaml:3:5: missing required key 'name' in runs[1]\n"
            "  - {set: {x: 2}}\n"
            "    ^\n"
            "x.yaml:4:12: duplicate run name 'a' in runs\n"
            "  - {name: a}\n"
            "           ^ each run needs its own name\n"
            "x.yaml:6:6: sweep values for x must be a non-empty list, got integer\n"
            "  x: 3\n"
            "     ^ write x: [a, b, ...]\n"
            "x.yaml:7:6: sweep values for y must be a non-empty list, got an empty list\n"
            "  y: []\n"
            "     ^ write y: [a, b, ...]");
}

TEST(Variants, SweepingAKeySetOnTheCommandLineIsAnError) {
  Document doc = parse_config("q: {bits: 4}\nsweep: {q.bits: [2, 3]}\n", "x.yaml");
  apply_override(doc, "q.bits=8");
  EXPECT_EQ(error_of([&] { expand_variants(doc); }),
            "x.yaml:2:9: q.bits is set by sweep and on the command line (--set q.bits=8)\n"
            "sweep: {q.bits: [2, 3]}\n"
            "        ^ drop one of them");
}

TEST(Variants, SettingThroughAScalarIsAnError) {
  const Document doc = parse_config("q: 4\nsweep: {q.bits: [2]}\n", "x.yaml");
  EXPECT_EQ(error_of([&] { expand_variants(doc); }),
            "x.yaml:2:9: cannot set q.bits: q is an integer, not a map\n"
            "sweep: {q.bits: [2]}\n"
            "        ^");
}

// A million variants took 5.8 GB before the first run; the count is checked before any is built.
TEST(Variants, TooManyVariantsIsAnErrorGivingTheCountAndTheLimit) {
  std::string text = "name: x\nsweep:\n";
  for (const char* key : {"a", "b", "c", "d", "e", "f"}) text += std::string("  ") + key + ": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n";
  const Document doc = parse_config(text, "x.yaml");
  EXPECT_EQ(error_of([&] { expand_variants(doc); }),
            "x.yaml:2:1: the experiment expands to 1000000 runs (sweep: 10 x 10 x 10 x 10 x 10 x 10), more than "
            "the limit of 10000\n"
            "sweep:\n"
            "^ split the study into several experiment files");
  const Document runs = parse_config(
      "runs:\n  - {name: a}\n  - {name: b}\nsweep: {a: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], b: [" +
          std::string("0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ") + "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, "
          "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, "
          "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, "
          "0, 1, 2, 3, 4, 5, 6, 7, 8, 9], c: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}\n",
      "x.yaml");
  EXPECT_EQ(error_of([&] { expand_variants(runs); }).substr(0, 116),
            "x.yaml:4:1: the experiment expands to 20000 runs (runs: 2, sweep: 10 x 100 x 10), more than the limit of "
            "10000\nsweep");
  // At the limit, every variant is built.
  const Document fits = parse_config("sweep: {a: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], b: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "
                                     "c: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], d: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}\n",
                                     "x.yaml");
  EXPECT_EQ(expand_variants(fits).size(), 10000u);
}

}  // namespace
}  // namespace abq::config

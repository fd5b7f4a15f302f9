// Expected values follow from the --set rules in overrides.h applied by hand to the small inline
// documents below (values parsed as YAML, maps created on the way).
#include "framework/config/overrides.h"

#include <functional>

#include <gtest/gtest.h>

#include "framework/config/loader.h"
#include "framework/core/error.h"

namespace abq::config {
namespace {

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const ConfigError& e) {
    return e.message();
  }
  return "(no error)";
}

Document sample() {
  return parse_config("quant:\n  weights:\n    bits: 4\n  kv:\nlayers: [1, 2]\n", "x.yaml");
}

TEST(Overrides, ValuesAreParsedAsYaml) {
  Document doc = sample();
  apply_overrides(doc, {"quant.weights.bits=5", "quant.weights.symmetric=true", "model.sizes=[2, 3]",
                        "model.extra={a: 1}", "name='4'"});
  const YAML::Node& root = doc.root();
  EXPECT_EQ(root["quant"]["weights"]["bits"].Scalar(), "5");
  EXPECT_EQ(root["quant"]["weights"]["symmetric"].Scalar(), "true");
  ASSERT_TRUE(root["model"]["sizes"].IsSequence());
  EXPECT_EQ(root["model"]["sizes"][1].Scalar(), "3");
  EXPECT_EQ(root["model"]["extra"]["a"].Scalar(), "1");
  EXPECT_EQ(root["name"].Scalar(), "4");
  EXPECT_EQ(root["name"].Tag(), "!");  // quoted: stays a string
}

TEST(Overrides, CreatesIntermediateMapsAndFillsNullOnes) {
  Document doc = sample();
  apply_override(doc, "calibration.data.name=wikitext2");
  apply_override(doc, "quant.kv.bits=8");  // `kv:` was null
  EXPECT_EQ(doc.root()["calibration"]["data"]["name"].Scalar(), "wikitext2");
  EXPECT_EQ(doc.root()["quant"]["kv"]["bits"].Scalar(), "8");
  EXPECT_EQ(doc.root()["quant"]["weights"]["bits"].Scalar(), "4");  // siblings kept
}

TEST(Overrides, OverriddenNodesArePositionedAtTheFlag) {
  Document doc = sample();
  apply_override(doc, "quant.weights.bits=5");
  apply_override(doc, "calibration.data={name: c4}");
  EXPECT_EQ(doc.locate({"quant", "weights", "bits"}).describe(), "--set quant.weights.bits=5");
  EXPECT_EQ(doc.locate({"quant", "weights", "bits"}).file, "<command line>");
  EXPECT_EQ(doc.locate({"calibration"}, true).describe(), "--set calibration.data={name: c4}");
  EXPECT_EQ(doc.locate({"calibration", "data", "name"}).describe(), "--set calibration.data={name: c4}");
  EXPECT_EQ(doc.locate({"quant", "weights"}, true).describe(), "x.yaml:2:3");  // untouched
}

TEST(Overrides, NumbersIndexListsAndDottedKeysMatchWhole) {
  Document doc = parse_config("layers: [1, 2]\nsweep:\n  quant.weights.bits: [2, 3]\n", "x.yaml");
  apply_override(doc, "layers.1=7");
  apply_override(doc, "sweep.quant.weights.bits=[4]");
  EXPECT_EQ(doc.root()["layers"][1].Scalar(), "7");
  ASSERT_EQ(doc.root()["sweep"].size(), 1u);
  EXPECT_EQ(doc.root()["sweep"]["quant.weights.bits"][0].Scalar(), "4");
}

TEST(Overrides, MalformedAssignmentsAreNamed) {
  Document doc = sample();
  EXPECT_EQ(error_of([&] { apply_override(doc, "quant.weights.bits"); }),
            "malformed --set 'quant.weights.bits': expected key.path=value");
  EXPECT_EQ(error_of([&] { apply_override(doc, "=4"); }),
            "malformed --set '=4': the key path before '=' is empty");
  EXPECT_EQ(error_of([&] { apply_override(doc, "quant..bits=4"); }),
            "malformed --set 'quant..bits=4': empty segment in key path 'quant..bits'");
  EXPECT_EQ(error_of([&] { apply_override(doc, "a=[1,"); }),
            "malformed --set 'a=[1,': the value is not valid YAML (end of sequence flow not found)");
  EXPECT_EQ(error_of([&] { apply_override(doc, "quant.weights.bits.x=1"); }),
            "--set quant.weights.bits.x=1: cannot set quant.weights.bits.x: quant.weights.bits is an "
            "integer, not a map");
  EXPECT_EQ(error_of([&] { apply_override(doc, "layers.5=1"); }),
            "--set layers.5=1: cannot set layers.5: layers has 2 items, no item 5");
}

TEST(Overrides, AllMalformedAssignmentsAreReportedTogether) {
  Document doc = sample();
  EXPECT_EQ(error_of([&] { apply_overrides(doc, {"a", "b=1", "=2"}); }),
            "malformed --set 'a': expected key.path=value\n"
            "malformed --set '=2': the key path before '=' is empty");
  EXPECT_EQ(doc.root()["b"].Scalar(), "1");  // the good one still applied
}

TEST(Overrides, EmptyValueIsNull) {
  Document doc = sample();
  apply_override(doc, "quant.weights=");
  EXPECT_TRUE(doc.root()["quant"]["weights"].IsNull());
}

// An index beyond size_t threw std::out_of_range ("stoul") out of the parser before.
TEST(Overrides, HugeListIndexIsPastTheEnd) {
  Document doc = parse_config("eval:\n  - {type: perplexity, seqlen: 8}\n", "x.yaml");
  EXPECT_EQ(error_of([&] { apply_override(doc, "eval.99999999999999999999.seqlen=4"); }),
            "--set eval.99999999999999999999.seqlen=4: cannot set eval.99999999999999999999.seqlen: "
            "eval has 1 items, no item 99999999999999999999");
  EXPECT_EQ(error_of([&] { apply_override(doc, "eval.18446744073709551615.seqlen=4"); }),
            "--set eval.18446744073709551615.seqlen=4: cannot set eval.18446744073709551615.seqlen: "
            "eval has 1 items, no item 18446744073709551615");
  EXPECT_FALSE(doc.find({"eval", "[99999999999999999999]"}).IsDefined());
}

}  // namespace
}  // namespace abq::config

// ${name} substitution from the top-level vars: map (framework/config/variables.h). Expected values
// are written out by hand from the documented rules.
#include "framework/config/variables.h"

#include <gtest/gtest.h>

#include "framework/config/loader.h"
#include "framework/config/overrides.h"
#include "framework/core/error.h"

namespace abq::config {
namespace {

TEST(Variables, ReplacesEveryReferenceInStringsAndLists) {
  Document doc = parse_config(
      "vars: {root: /models, name: llama-7b, n: 128}\n"
      "model: {path: \"${root}/${name}-hf\"}\n"
      "calibration: {samples: \"${n}\"}\n"
      "eval: [{data: \"${root}/x\"}, {data: plain}]\n",
      "x.yaml");
  substitute_variables(doc);
  EXPECT_EQ(doc.root()["model"]["path"].as<std::string>(), "/models/llama-7b-hf");
  EXPECT_EQ(doc.root()["calibration"]["samples"].as<int>(), 128);
  EXPECT_EQ(doc.root()["eval"][0]["data"].as<std::string>(), "/models/x");
  EXPECT_EQ(doc.root()["eval"][1]["data"].as<std::string>(), "plain");
  EXPECT_EQ(doc.root()["vars"]["root"].as<std::string>(), "/models") << "vars themselves are left alone";
}

TEST(Variables, CommandLineOverridesTheDefault) {
  Document doc = parse_config("vars: {root: /models}\nmodel: {path: \"${root}/a\"}\n", "x.yaml");
  apply_overrides(doc, {"vars.root=/data/ckpt"});
  substitute_variables(doc);
  EXPECT_EQ(doc.root()["model"]["path"].as<std::string>(), "/data/ckpt/a");
}

TEST(Variables, DoubleDollarIsALiteral) {
  Document doc = parse_config("vars: {a: b}\nname: \"cost $${a} ${a}\"\n", "x.yaml");
  substitute_variables(doc);
  EXPECT_EQ(doc.root()["name"].as<std::string>(), "cost ${a} b");
}

TEST(Variables, UnknownNameIsAnErrorAtItsPositionWithAHint) {
  Document doc = parse_config("vars: {llama_7b: /m}\nmodel:\n  path: \"${llama_8b}\"\n", "exp.yaml");
  try {
    substitute_variables(doc);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("exp.yaml:3:9"), std::string::npos) << what;
    EXPECT_NE(what.find("unknown variable '${llama_8b}'"), std::string::npos) << what;
    EXPECT_NE(what.find("llama_7b"), std::string::npos) << what;
  }
}

TEST(Variables, UnterminatedReferenceAndNonScalarVariable) {
  Document bad_ref = parse_config("name: \"${oops\"\n", "a.yaml");
  EXPECT_THROW(substitute_variables(bad_ref), ConfigError);
  Document bad_var = parse_config("vars: {a: [1, 2]}\nname: x\n", "b.yaml");
  EXPECT_THROW(substitute_variables(bad_var), ConfigError);
}

}  // namespace
}  // namespace abq::config

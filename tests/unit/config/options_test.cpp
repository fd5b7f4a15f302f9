// OptionSet: one declaration gives the schema (defaults from the struct, nested dotted keys,
// rules), decoding, values, fingerprints and checks. Expected messages are written by hand from
// the formats in validate.h (rules: "PATH: message" at the key's position, lines and columns
// counted by hand in the inline documents).
#include "framework/config/options.h"

#include <gtest/gtest.h>

#include "framework/config/canonical.h"
#include "framework/config/loader.h"
#include "framework/config/validate.h"
#include "framework/core/error.h"

namespace abq::config {
namespace {

enum class Mode { fast, exact };

struct Pairs {
  bool qkv = true;
  bool fc2 = false;
};

struct DemoOptions {
  int64_t block_size = 128;
  double damp = 0.01;
  int bits = 4;
  uint64_t seed = 7;
  std::string label;
  Mode mode = Mode::exact;
  Pairs pairs;
};

const OptionSet<DemoOptions>& demo_options() {
  static const auto set =
      OptionSet<DemoOptions>()
          .field("block_size", &DemoOptions::block_size, Schema::integer().range(1, 4096).doc("columns per block"))
          .field("damp", &DemoOptions::damp, Schema::number().range(0.0, 1.0).doc("dampening"))
          .field("bits", &DemoOptions::bits, Schema::integer().range(1, 16))
          .field("seed", &DemoOptions::seed, Schema::integer().range(0, 1000))
          .field("label", &DemoOptions::label, Schema::string().optional())
          .enumeration("mode", &DemoOptions::mode, {{"fast", Mode::fast}, {"exact", Mode::exact}}, "how")
          .field<bool>("let.pairs.qkv", [](DemoOptions& o) -> bool& { return o.pairs.qkv; }, Schema::boolean())
          .field<bool>("let.pairs.fc2", [](DemoOptions& o) -> bool& { return o.pairs.fc2; }, Schema::boolean())
          .rule("block_size is a multiple of bits", [](const DemoOptions& o, std::vector<RuleProblem>& p) {
            if (o.block_size % o.bits != 0)
              p.push_back({{"block_size"}, "block_size " + std::to_string(o.block_size) + " is not a multiple of bits " +
                                               std::to_string(o.bits), "try 128"});
          })
          .rule("fc2 needs qkv", [](const DemoOptions& o, std::vector<RuleProblem>& p) {
            if (o.pairs.fc2 && !o.pairs.qkv) p.push_back({{"let", "pairs", "fc2"}, "fc2 needs qkv", ""});
          });
  return set;
}

Schema root() { return Schema::object({{"demo", demo_options().schema()}}); }

YAML::Node resolve(const std::string& text) { return validate(parse_config(text, "x.yaml"), root()); }

std::string error_of(const std::string& text) {
  try {
    resolve(text);
  } catch (const ConfigError& e) {
    return e.message();
  }
  return "(no error)";
}

TEST(OptionSet, DefaultsComeFromTheStructAndKeysNest) {
  const YAML::Node resolved = resolve("demo: {}\n");
  EXPECT_EQ(canonical_yaml(resolved["demo"]),
            canonical_yaml(YAML::Load("{block_size: 128, damp: 0.01, bits: 4, seed: 7, mode: exact, "
                                      "let: {pairs: {qkv: true, fc2: false}}}")));
  const DemoOptions o = demo_options().decode(resolved["demo"]);
  EXPECT_EQ(o.block_size, 128);
  EXPECT_EQ(o.label, "");  // optional and absent: the struct's value
  EXPECT_EQ(o.mode, Mode::exact);
}

TEST(OptionSet, DecodeFillsEveryMemberTypeIncludingNestedAndEnums) {
  const DemoOptions o = demo_options().decode(
      resolve("demo: {block_size: 64, damp: 0.5, bits: 8, seed: 9, label: x, mode: fast, let: {pairs: {qkv: false}}}\n")["demo"]);
  EXPECT_EQ(o.block_size, 64);
  EXPECT_DOUBLE_EQ(o.damp, 0.5);
  EXPECT_EQ(o.bits, 8);
  EXPECT_EQ(o.seed, 9u);
  EXPECT_EQ(o.label, "x");
  EXPECT_EQ(o.mode, Mode::fast);
  EXPECT_FALSE(o.pairs.qkv);
  EXPECT_FALSE(o.pairs.fc2);
}

TEST(OptionSet, RulesAreReportedAtTheirKeysAndCollectedWithTheRest) {
  EXPECT_EQ(error_of("demo:\n  block_size: 100\n  bits: 8\n  let: {pairs: {qkv: false, fc2: true}}\n  damp: 2\n"),
            "x.yaml:5:9: value 2 for demo.damp is out of range [0.0, 1.0]\n"
            "  damp: 2\n"
            "        ^");
  // Once the keys validate, every rule reports, each at its key.
  EXPECT_EQ(error_of("demo:\n  block_size: 100\n  bits: 8\n  let: {pairs: {qkv: false, fc2: true}}\n"),
            "x.yaml:2:15: demo.block_size: block_size 100 is not a multiple of bits 8\n"
            "  block_size: 100\n"
            "              ^ try 128\n"
            "x.yaml:4:34: demo.let.pairs.fc2: fc2 needs qkv\n"
            "  let: {pairs: {qkv: false, fc2: true}}\n"
            "                                 ^");
}

TEST(OptionSet, PartialSchemaHasNoDefaultsAndDecodesOverABase) {
  const Schema partial = Schema::object({{"demo", demo_options().partial_schema()}});
  const YAML::Node r = validate(parse_config("demo: {bits: 2}\n", "x.yaml"), partial);
  EXPECT_FALSE(r["demo"]["block_size"]);
  DemoOptions base;
  base.block_size = 6;
  const DemoOptions o = demo_options().decode(r["demo"], base);
  EXPECT_EQ(o.bits, 2);
  EXPECT_EQ(o.block_size, 6);
}

TEST(OptionSet, ValuesFingerprintAndEncodeWalkTheDeclarationInOrder) {
  DemoOptions o;
  o.damp = 0.1;
  EXPECT_EQ(demo_options().fingerprint(o),
            "block_size=128 damp=0.1 bits=4 seed=7 label= mode=exact let.pairs.qkv=true let.pairs.fc2=false");
  const auto values = demo_options().values(o);
  ASSERT_EQ(values.size(), 8u);
  EXPECT_EQ(values[5].first, "mode");
  EXPECT_EQ(std::get<std::string>(values[5].second), "exact");
  const DemoOptions back = demo_options().from_values(values);
  EXPECT_EQ(demo_options().fingerprint(back), demo_options().fingerprint(o));
  const YAML::Node encoded = demo_options().encode(o);
  EXPECT_EQ(encoded["let"]["pairs"]["qkv"].as<bool>(), true);
  EXPECT_EQ(demo_options().fingerprint(demo_options().decode(encoded)), demo_options().fingerprint(o));
}

TEST(OptionSet, CheckRunsRangesAndRulesOnAStructBuiltInCode) {
  DemoOptions o;
  o.bits = 0;
  o.block_size = 7;
  o.bits = 3;
  EXPECT_EQ(demo_options().check(o).size(), 1u);  // 7 % 3
  o.bits = 0;
  o.block_size = 128;
  const auto problems = demo_options().check(o);
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems.front().message, "value 0 for bits is out of range [1, 16]");
}

TEST(OptionSet, DescribeListsTheRules) {
  const std::string text = demo_options().schema().describe();
  EXPECT_NE(text.find("rule: block_size is a multiple of bits"), std::string::npos) << text;
  EXPECT_NE(text.find("block_size: integer in [1, 4096]; default 128"), std::string::npos) << text;
}

}  // namespace
}  // namespace abq::config

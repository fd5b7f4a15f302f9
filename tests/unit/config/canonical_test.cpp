// Expected canonical strings are written by hand from the rules in canonical.h; the SHA-256
// digests were computed independently with Python's hashlib.sha256 over those exact strings.
#include "framework/config/canonical.h"

#include <gtest/gtest.h>

#include "framework/config/scalar.h"

namespace abq::config {
namespace {

TEST(Canonical, SortedKeysAndNormalizedScalars) {
  const YAML::Node n = YAML::Load("b: +1\na: {y: 2.50, x: [0x1, 'two', True, ~, 1e-7]}\n");
  EXPECT_EQ(canonical_yaml(n), R"({"a": {"x": [1, "two", true, null, 1.0e-07], "y": 2.5}, "b": 1})");
  EXPECT_EQ(config_hash(n), "3025ef2a54be61acbcfbd430e8206e023601d6a9cf828773e2dcd5dd8324cd4b");
  EXPECT_EQ(config_hash(YAML::Load("a: 1")), "f9d86028c6e0d64e225186f96acb69338b2c59764df79162107f5c4bb34d1310");
}

TEST(Canonical, HashIgnoresOrderCommentsStyleAndNumberSpelling) {
  const std::string a = "quant: {weights: {bits: 4, clip: 1.0, symmetric: false}}\nname: run\nlist: [1, 2]\n";
  const std::string b =
      "# a comment\n"
      "name:    run   # trailing comment\n"
      "list:\n"
      "  - 1\n"
      "  - 2\n"
      "quant:\n"
      "  weights:\n"
      "    symmetric: False\n"
      "    clip: 1.00\n"
      "    bits:   4\n";
  EXPECT_EQ(canonical_yaml(YAML::Load(a)), canonical_yaml(YAML::Load(b)));
  EXPECT_EQ(config_hash(YAML::Load(a)), config_hash(YAML::Load(b)));
}

TEST(Canonical, HashChangesWithAnyValue) {
  const std::string base = config_hash(YAML::Load("quant: {weights: {bits: 4}}"));
  EXPECT_NE(base, config_hash(YAML::Load("quant: {weights: {bits: 5}}")));
  EXPECT_NE(base, config_hash(YAML::Load("quant: {weights: {bits: '4'}}")));  // string, not integer
  EXPECT_NE(base, config_hash(YAML::Load("quant: {weights: {bits: 4.0}}")));  // float, not integer
  EXPECT_NE(base, config_hash(YAML::Load("quant: {weight: {bits: 4}}")));
  EXPECT_NE(config_hash(YAML::Load("[1, 2]")), config_hash(YAML::Load("[2, 1]")));  // lists keep order
}

TEST(Canonical, StringsAreEscaped) {
  EXPECT_EQ(canonical_yaml(YAML::Load("s: \"a\\\"b\\\\c\\nd\\u0001\"")), R"({"s": "a\"b\\c\nd\u0001"})");
}

TEST(Canonical, FormatDoubleIsShortestRoundTrip) {
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(1.0), "1.0");
  EXPECT_EQ(format_double(-0.0), "-0.0");
  EXPECT_EQ(format_double(1e-7), "1.0e-07");
  EXPECT_EQ(format_double(1e20), "1.0e+20");
  EXPECT_EQ(format_double(2.5e-5), "2.5e-05");
  EXPECT_EQ(format_double(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_double(1.0 / 0.0), ".inf");
  EXPECT_EQ(format_double(-1.0 / 0.0), "-.inf");
}

TEST(Canonical, ScalarTyping) {
  EXPECT_EQ(read_plain("0o17").integer, 15);
  EXPECT_EQ(read_plain("-12").integer, -12);
  EXPECT_EQ(read_plain(".5").kind, ScalarKind::floating);
  EXPECT_EQ(read_plain("1.").kind, ScalarKind::floating);
  EXPECT_EQ(read_plain("1e5").kind, ScalarKind::floating);
  EXPECT_EQ(read_plain("e5").kind, ScalarKind::string);
  EXPECT_EQ(read_plain("yes").kind, ScalarKind::string);
  EXPECT_EQ(read_plain("TRUE").kind, ScalarKind::boolean);
  EXPECT_EQ(read_plain("Null").kind, ScalarKind::null);
  EXPECT_EQ(read_plain("1_000").kind, ScalarKind::string);
  const Scalar big = read_plain("99999999999999999999");
  EXPECT_EQ(big.kind, ScalarKind::integer);
  EXPECT_TRUE(big.overflow);
  EXPECT_EQ(big.text, "99999999999999999999");
}

TEST(Canonical, EmitYamlIsSortedBlockStyle) {
  const YAML::Node n = YAML::Load(
      "z: 1\n"
      "a: {y: [1, {k: v, b: 2}], x: {}, w: [], s: '4', t: 'yes', u: 'a: b', v: '', p: /models/x}\n"
      "m: [[1, 2], 3]\n");
  EXPECT_EQ(emit_yaml(n),
            "a:\n"
            "  p: /models/x\n"
            "  s: \"4\"\n"
            "  t: \"yes\"\n"
            "  u: \"a: b\"\n"
            "  v: \"\"\n"
            "  w: []\n"
            "  x: {}\n"
            "  \"y\":\n"  // YAML 1.1 readers take a plain y for a boolean
            "    - 1\n"
            "    - b: 2\n"
            "      k: v\n"
            "m:\n"
            "  - - 1\n"
            "    - 2\n"
            "  - 3\n"
            "z: 1\n");
}

TEST(Canonical, EmitYamlRoundTripsToTheSameHash) {
  const YAML::Node n = YAML::Load(
      "name: 'run #1'\nsites: ['layers.*.mlp', '-x', \"two\\nlines\", '~', 'null', '1e3', ' pad ']\n"
      "n: {f: 0.1, i: -3, b: false, z: ~}\n");
  const std::string text = emit_yaml(n);
  EXPECT_EQ(config_hash(YAML::Load(text)), config_hash(n)) << text;
}

}  // namespace
}  // namespace abq::config

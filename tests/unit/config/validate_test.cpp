// Expected messages are written by hand from the message formats documented in validate.h; line
// and column numbers are counted by hand in the inline documents (1-based), and did-you-mean
// suggestions follow abq::closest_match (edit distance within max(2, |word|/3)).
#include "framework/config/validate.h"

#include <functional>

#include <gtest/gtest.h>

#include "framework/config/canonical.h"
#include "framework/config/loader.h"
#include "framework/config/overrides.h"
#include "framework/core/error.h"

namespace abq::config {
namespace {

const std::string kDir = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/config/";

Schema weights_schema() {
  return Schema::object({
      {"bits", Schema::integer().range(1, 16).default_value(16).doc("bit width; 16 = not quantized")},
      {"symmetric", Schema::boolean().default_value(false)},
      {"granularity",
       Schema::enumeration({"per_tensor", "per_channel", "per_group", "per_token", "per_head"})
           .default_value("per_channel")},
      {"clip_ratio", Schema::number().range(0.0, 1.0).exclusive_min().default_value(1.0)},
      {"group_size", Schema::integer().min(1).optional()},
  });
}

Schema experiment_schema() {
  Schema gptq = Schema::object({
      {"block_size", Schema::integer().range(1, 4096).default_value(128)},
      {"damp", Schema::number().range(0.0, 1.0).default_value(0.01)},
      {"act_order", Schema::boolean().default_value(false)},
  });
  Schema rtn = Schema::object({});
  return Schema::object({
      {"name", Schema::string().required().doc("run name")},
      {"model", Schema::object({
                    {"path", Schema::string().required()},
                    {"dtype", Schema::enumeration({"float32", "float16", "bfloat16"}).default_value("float16")},
                })},
      {"seed", Schema::integer().optional()},
      {"quant", Schema::object({
                    {"weights", weights_schema()},
                    {"quantizer", Schema::tagged("type", {{"rtn", rtn}, {"gptq", gptq}}).default_type("rtn")},
                })},
      {"tags", Schema::list(Schema::string()).default_value(std::vector<std::string>{"ptq", "2024"})},
      {"overrides", Schema::list(Schema::object({{"sites", Schema::string().required()},
                                                 {"bits", Schema::integer().range(1, 16).required()}}))
                        .min_size(1)
                        .max_size(2)
                        .optional()},
      {"extra", Schema::map_of(Schema::number()).optional()},
      {"notes", Schema::any().optional()},
  });
}

std::string error_of(const std::string& text) {
  try {
    validate(parse_config(text, "x.yaml"), experiment_schema());
  } catch (const ConfigError& e) {
    return e.message();
  }
  return "(no error)";
}

YAML::Node resolve(const std::string& text) { return validate(parse_config(text, "x.yaml"), experiment_schema()); }

// Compares trees by canonical form, so the expected side can be written as plain YAML.
void expect_same(const YAML::Node& actual, const std::string& expected) {
  EXPECT_EQ(canonical_yaml(actual), canonical_yaml(YAML::Load(expected)));
}

TEST(Validate, UnknownKeyNinjaStyle) {
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m}\nquant:\n  quantizer:\n    type: gptq\n    blocksize: 128\n"),
            "x.yaml:6:5: unknown key 'blocksize' in quant.quantizer (gptq)\n"
            "    blocksize: 128\n"
            "    ^ did you mean 'block_size'? allowed: act_order, block_size, damp, type");
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m}\nquant:\n  weights:\n    bitz: 4\n"),
            "x.yaml:5:5: unknown key 'bitz' in quant.weights\n"
            "    bitz: 4\n"
            "    ^ did you mean 'bits'? allowed: bits, clip_ratio, granularity, group_size, symmetric");
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m}\ncalibrationxyz: {}\n"),
            "x.yaml:3:1: unknown key 'calibrationxyz' at top level\n"
            "calibrationxyz: {}\n"
            "^ allowed: extra, model, name, notes, overrides, quant, seed, tags");
}

TEST(Validate, WrongTypesSayExpectedAndGot) {
  EXPECT_EQ(error_of("name: 7\nmodel: {path: /m}\nquant:\n  weights:\n    bits: four\n    symmetric: yes\n"
                     "    granularity: [per_tensor]\n"),
            "x.yaml:1:7: wrong type for name: expected a string, got integer 7\n"
            "name: 7\n"
            "      ^ quote it (\"7\") if you mean the string\n"
            "x.yaml:5:11: wrong type for quant.weights.bits: expected an integer, got string 'four'\n"
            "    bits: four\n"
            "          ^\n"
            "x.yaml:6:16: wrong type for quant.weights.symmetric: expected a boolean (true or false), got "
            "string 'yes'\n"
            "    symmetric: yes\n"
            "               ^ write true or false\n"
            "x.yaml:7:18: wrong type for quant.weights.granularity: expected one of per_tensor, per_channel, "
            "per_group, per_token, per_head, got a list\n"
            "    granularity: [per_tensor]\n"
            "                 ^");
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m}\nquant: {weights: {bits: 4.0}}\n"),
            "x.yaml:3:25: wrong type for quant.weights.bits: expected an integer, got float 4.0\n"
            "quant: {weights: {bits: 4.0}}\n"
            "                        ^ write it without a decimal point");
  EXPECT_EQ(error_of("name: demo\nmodel: [1]\n"),
            "x.yaml:2:8: wrong type for model: expected a map, got a list\nmodel: [1]\n       ^");
}

TEST(Validate, IntegersAreNumbersButNotViceVersa) {
  const YAML::Node r = resolve("name: demo\nmodel: {path: /m}\nquant: {weights: {clip_ratio: 1}}\n");
  EXPECT_EQ(r["quant"]["weights"]["clip_ratio"].Scalar(), "1.0");
}

TEST(Validate, OutOfRangeSaysTheRange) {
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m}\nquant:\n  weights: {bits: 20, clip_ratio: 0, group_size: 0}\n"),
            "x.yaml:4:19: value 20 for quant.weights.bits is out of range [1, 16]\n"
            "  weights: {bits: 20, clip_ratio: 0, group_size: 0}\n"
            "                  ^\n"
            "x.yaml:4:35: value 0 for quant.weights.clip_ratio is out of range (0.0, 1.0]\n"
            "  weights: {bits: 20, clip_ratio: 0, group_size: 0}\n"
            "                                  ^\n"
            "x.yaml:4:50: value 0 for quant.weights.group_size is out of range [1, inf)\n"
            "  weights: {bits: 20, clip_ratio: 0, group_size: 0}\n"
            "                                                 ^");
}

TEST(Validate, BadEnumValueSuggests) {
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m, dtype: fp16}\nquant:\n  weights:\n    granularity: per_chanel\n"),
            "x.yaml:2:26: bad value 'fp16' for model.dtype\n"
            "model: {path: /m, dtype: fp16}\n"
            "                         ^ allowed: float32, float16, bfloat16\n"
            "x.yaml:5:18: bad value 'per_chanel' for quant.weights.granularity\n"
            "    granularity: per_chanel\n"
            "                 ^ did you mean 'per_channel'? allowed: per_tensor, per_channel, per_group, "
            "per_token, per_head");
}

TEST(Validate, MissingRequiredKeys) {
  EXPECT_EQ(error_of("seed: 1\nmodel:\n  dtype: float16\n"),
            "x.yaml:2:1: missing required key 'path' in model\n"
            "model:\n"
            "^ path: string\n"
            "x.yaml:1:1: missing required key 'name' at top level\n"
            "seed: 1\n"
            "^ name: string; run name");
  // An absent object whose own keys cannot all be defaulted is itself missing.
  EXPECT_EQ(error_of("name: demo\n"),
            "x.yaml:1:1: missing required key 'model' at top level\nname: demo\n^ model: map");
  // An explicit null where a value is required is a wrong type, pointed at the null.
  EXPECT_EQ(error_of("name: demo\nmodel: {path: ~}\n"),
            "x.yaml:2:15: wrong type for model.path: expected a string, got null\n"
            "model: {path: ~}\n"
            "              ^");
}

TEST(Validate, TaggedTypes) {
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m}\nquant:\n  quantizer: {type: gptp}\n"),
            "x.yaml:4:21: unknown type 'gptp' for quant.quantizer\n"
            "  quantizer: {type: gptp}\n"
            "                    ^ did you mean 'gptq'? allowed types: gptq, rtn");
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m}\nquant: {quantizer: awq}\n"),
            "x.yaml:3:20: unknown type 'awq' for quant.quantizer\n"
            "quant: {quantizer: awq}\n"
            "                   ^ allowed types: gptq, rtn");
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m}\nquant: {quantizer: 3}\n"),
            "x.yaml:3:20: wrong type for quant.quantizer: expected a type name or a map with 'type', got "
            "integer 3\n"
            "quant: {quantizer: 3}\n"
            "                   ^ allowed types: gptq, rtn");
  // The chosen type's defaults are filled; a bare name is shorthand for {type: name}.
  const YAML::Node full = resolve("name: demo\nmodel: {path: /m}\nquant: {quantizer: {type: gptq, damp: 0.1}}\n");
  expect_same(full["quant"]["quantizer"], "{type: gptq, block_size: 128, damp: 0.1, act_order: false}");
  const YAML::Node shorthand = resolve("name: demo\nmodel: {path: /m}\nquant: {quantizer: gptq}\n");
  expect_same(shorthand["quant"]["quantizer"], "{type: gptq, block_size: 128, damp: 0.01, act_order: false}");
  const YAML::Node defaulted = resolve("name: demo\nmodel: {path: /m}\n");
  expect_same(defaulted["quant"]["quantizer"], "{type: rtn}");
}

TEST(Validate, TaggedWithoutDefaultTypeNeedsTheTag) {
  Schema s = Schema::object({{"c", Schema::tagged("type", {{"a", Schema::object({})}})}});
  try {
    validate(parse_config("c: {x: 1}\n", "y.yaml"), s);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.message(), "y.yaml:1:1: missing required key 'type' in c\nc: {x: 1}\n^ allowed types: a");
  }
}

TEST(Validate, ListSizes) {
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m}\noverrides: []\n"),
            "x.yaml:3:12: overrides has 0 items; expected at least 1\noverrides: []\n           ^");
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m}\noverrides:\n  - {sites: a, bits: 4}\n  - {sites: b, bits: 4}\n"
                     "  - {sites: c}\n"),
            "x.yaml:4:3: overrides has 3 items; expected at most 2\n"
            "  - {sites: a, bits: 4}\n"
            "  ^\n"
            "x.yaml:6:5: missing required key 'bits' in overrides[2]\n"
            "  - {sites: c}\n"
            "    ^ bits: integer in [1, 16]");
}

TEST(Validate, MapOfChecksEveryValue) {
  EXPECT_EQ(error_of("name: demo\nmodel: {path: /m}\nextra: {a: 1, b: x}\n"),
            "x.yaml:3:18: wrong type for extra.b: expected a number, got string 'x'\n"
            "extra: {a: 1, b: x}\n"
            "                 ^");
}

TEST(Validate, EveryProblemInOneThrowFromAFile) {
  const std::string file = kDir + "invalid.yaml";
  try {
    validate(load_config(file), experiment_schema());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.message(),
              file + ":4:11: value 20 for quant.weights.bits is out of range [1, 16]\n"
                     "    bits: 20\n"
                     "          ^\n" +
                  file + ":5:5: unknown key 'blocksize' in quant.weights\n"
                         "    blocksize: 128\n"
                         "    ^ allowed: bits, clip_ratio, granularity, group_size, symmetric\n" +
                  file + ":6:18: bad value 'per_chanel' for quant.weights.granularity\n"
                         "    granularity: per_chanel\n"
                         "                 ^ did you mean 'per_channel'? allowed: per_tensor, per_channel, "
                         "per_group, per_token, per_head\n" +
                  file + ":7:1: missing required key 'path' in model\n"
                         "model: {dtype: float16}\n"
                         "^ path: string\n" +
                  file + ":2:1: missing required key 'name' at top level\n"
                         "quant:\n"
                         "^ name: string; run name");
  }
}

TEST(Validate, CommandLineValuesPointAtTheFlag) {
  Document doc = parse_config("name: demo\nmodel: {path: /m}\n", "x.yaml");
  apply_overrides(doc, {"quant.weights.bits=50", "quant.weights.granularity=per_chanel", "quant.wieghts={}"});
  try {
    validate(doc, experiment_schema());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.message(),
              "--set quant.weights.bits=50: value 50 for quant.weights.bits is out of range [1, 16]\n"
              "--set quant.weights.granularity=per_chanel: bad value 'per_chanel' for "
              "quant.weights.granularity\n"
              "    did you mean 'per_channel'? allowed: per_tensor, per_channel, per_group, per_token, per_head\n"
              "--set quant.wieghts={}: unknown key 'wieghts' in quant\n"
              "    did you mean 'weights'? allowed: quantizer, weights");
  }
}

TEST(Validate, DefaultsAreFilledAndScalarsNormalized) {
  const YAML::Node r = resolve("name: demo\nmodel: {path: /m}\nseed: 0x10\nquant: {weights: {symmetric: True}}\n"
                               "notes: {free: [form, 1]}\n");
  expect_same(r,
              "name: demo\n"
              "model: {path: /m, dtype: float16}\n"
              "seed: 16\n"
              "quant:\n"
              "  weights: {bits: 16, symmetric: true, granularity: per_channel, clip_ratio: 1.0}\n"
              "  quantizer: {type: rtn}\n"
              "tags: [ptq, '2024']\n"
              "notes: {free: [form, 1]}\n");
  // Defaults of strings stay strings even when they look like numbers.
  EXPECT_EQ(r["tags"][1].Tag(), "!");
  // Optional keys without a default stay absent; null means absent for them.
  const YAML::Node nulls = resolve("name: demo\nmodel: {path: /m}\nseed: ~\n");
  EXPECT_FALSE(nulls["seed"]);
  EXPECT_FALSE(nulls["overrides"]);
}

TEST(Validate, ValidateAtASubtree) {
  const Document doc = parse_config("quant:\n  weights: {bits: 3}\n", "x.yaml");
  expect_same(validate_at(doc, {"quant", "weights"}, weights_schema()),
              "{bits: 3, symmetric: false, granularity: per_channel, clip_ratio: 1.0}");
  // Absent: the defaults.
  expect_same(validate_at(doc, {"quant", "activations"}, weights_schema()),
              "{bits: 16, symmetric: false, granularity: per_channel, clip_ratio: 1.0}");
}

}  // namespace
}  // namespace abq::config

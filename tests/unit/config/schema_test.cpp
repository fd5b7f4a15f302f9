// Expected describe() text is written by hand from the formats in schema.h (summary lines, then
// "; default X" / "; required" / "; optional", then the doc indented by four spaces).
#include "framework/config/schema.h"

#include <gtest/gtest.h>

namespace abq::config {
namespace {

TEST(Schema, DescribeListsKeysTypesDefaultsRangesAndDocs) {
  Schema gptq = Schema::object({{"damp", Schema::number().range(0.0, 1.0).default_value(0.01).doc("dampening")}});
  gptq.doc("second-order weight rounding");
  Schema s = Schema::object({
      {"bits", Schema::integer().range(1, 16).default_value(16).doc("bit width; 16 = not quantized")},
      {"granularity", Schema::enumeration({"per_tensor", "per_channel"}).default_value("per_channel")},
      {"clip_ratio", Schema::number().range(0.0, 1.0).exclusive_min().default_value(1.0)},
      {"path", Schema::string().required()},
      {"seed", Schema::integer().optional()},
      {"sizes", Schema::list(Schema::integer().min(1)).min_size(1).default_value(std::vector<int>{1, 2})},
      {"quantizer", Schema::tagged("type", {{"rtn", Schema::object({})}, {"gptq", gptq}}).default_type("rtn")},
      {"extra", Schema::map_of(Schema::any()).optional()},
  });
  EXPECT_EQ(s.describe(),
            "bits: integer in [1, 16]; default 16\n"
            "    bit width; 16 = not quantized\n"
            "granularity: one of per_tensor, per_channel; default per_channel\n"
            "clip_ratio: number in (0.0, 1.0]; default 1.0\n"
            "path: string; required\n"
            "seed: integer; optional\n"
            "sizes: list of integer in [1, inf), at least 1 item; default [1, 2]\n"
            "quantizer: one of the types gptq, rtn (chosen by 'type'), default type rtn\n"
            "  type: rtn (default)\n"
            "  type: gptq\n"
            "      second-order weight rounding\n"
            "    damp: number in [0.0, 1.0]; default 0.01\n"
            "        dampening\n"
            "extra: map of name -> any value; optional\n");
}

TEST(Schema, AddExtendsObjectsAndTaggedTypes) {
  Schema s = Schema::object({{"a", Schema::integer().default_value(1)}});
  s.add("b", Schema::boolean().default_value(true));
  s.add("a", Schema::string().optional());  // replaces
  ASSERT_EQ(s.fields().size(), 2u);
  EXPECT_EQ(s.field("a")->kind(), Schema::Kind::string);
  EXPECT_EQ(s.names(), (std::vector<std::string>{"a", "b"}));
  Schema t = Schema::tagged("type", {});
  t.add("awq", Schema::object({})).add("smoothquant", Schema::object({}));
  EXPECT_EQ(t.names(), (std::vector<std::string>{"awq", "smoothquant"}));
  EXPECT_EQ(t.tag_key(), "type");
}

TEST(Schema, RangeText) {
  EXPECT_EQ(Schema::integer().range(1, 16).range_text(), "[1, 16]");
  EXPECT_EQ(Schema::number().range(0, 1).exclusive_min().exclusive_max().range_text(), "(0.0, 1.0)");
  EXPECT_EQ(Schema::number().max(2.5).range_text(), "(-inf, 2.5]");
  EXPECT_EQ(Schema::integer().range_text(), "");
}

}  // namespace
}  // namespace abq::config

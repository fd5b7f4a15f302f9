// QuantSpec names, labels and validation. Expected strings are the documented formats in
// framework/quant/quant_spec.h; levels() values are 2^n, or 2^n + 1 with bit balance at n <= 2
// (ABQ-LLM quantizer.py: qmax + 1 for 1- and 2-bit).
#include "framework/quant/quant_spec.h"

#include <gtest/gtest.h>

#include "framework/core/error.h"

namespace abq::quant {
namespace {

TEST(QuantSpec, GranularityNamesRoundTrip) {
  const auto names = granularity_names();
  ASSERT_EQ(names.size(), 5u);
  for (const auto& name : names) EXPECT_EQ(to_string(granularity_from_string(name)), name);
  EXPECT_EQ(granularity_from_string("per_head"), Granularity::per_head);
}

TEST(QuantSpec, UnknownGranularitySuggests) {
  try {
    granularity_from_string("per_chanel");
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(),
              "unknown granularity 'per_chanel'; did you mean 'per_channel'? allowed: per_tensor, per_channel, "
              "per_group, per_token, per_head");
  }
}

TEST(QuantSpec, Levels) {
  QuantSpec s;
  s.bits = 2;
  EXPECT_EQ(s.levels(), 4);
  s.bit_balance = true;
  EXPECT_EQ(s.levels(), 5);
  s.bits = 1;
  EXPECT_EQ(s.levels(), 3);
  s.bits = 3;
  EXPECT_EQ(s.levels(), 8);  // bit balance only at n <= 2
  s.bits = 2;
  s.symmetric = true;
  EXPECT_EQ(s.levels(), 4);  // and only with a zero-point
}

TEST(QuantSpec, Describe) {
  QuantSpec w;
  w.bits = 4;
  w.granularity = Granularity::per_group;
  w.group_size = 128;
  EXPECT_EQ(describe(w, "w"), "w4g128");
  EXPECT_EQ(describe(w), "4g128");

  QuantSpec a;
  a.bits = 8;
  a.granularity = Granularity::per_token;
  EXPECT_EQ(describe(a, "a"), "a8t");
  a.symmetric = true;
  EXPECT_EQ(describe(a, "a"), "a8ts");

  QuantSpec w2;
  w2.bits = 2;
  w2.bit_balance = true;
  w2.clip_ratio = 0.9;
  EXPECT_EQ(describe(w2, "w"), "w2*c0.9");

  QuantSpec kv;
  kv.bits = 4;
  kv.granularity = Granularity::per_head;
  kv.dynamic = false;
  EXPECT_EQ(describe(kv, "kv"), "kv4h-static");

  QuantSpec off;
  EXPECT_EQ(describe(off, "a"), "a16");
  QuantSpec pt;
  pt.bits = 8;
  pt.granularity = Granularity::per_tensor;
  EXPECT_EQ(describe(pt, "w"), "w8pt");
}

TEST(QuantSpec, ValidateMessages) {
  QuantSpec s;
  s.bits = 0;
  try {
    validate(s);
    FAIL();
  } catch (const Error& e) {
    // the range of the declaration (quant_spec_options.h); 16 and above mean "not quantized"
    EXPECT_EQ(e.message(), "value 0 for bits is out of range [1, 16]");
  }
  s.bits = 4;
  s.clip_ratio = 1.5;
  EXPECT_THROW(validate(s), Error);
  s.clip_ratio = 1.0;
  s.granularity = Granularity::per_group;
  try {
    validate(s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "granularity per_group needs group_size > 0; got group_size 0");
  }
  s.group_size = 64;
  EXPECT_NO_THROW(validate(s));
  s.bits = 1;
  s.symmetric = true;
  EXPECT_THROW(validate(s), Error);
  s.bits = 16;  // disabled specs are never checked further
  s.clip_ratio = 7.0;
  EXPECT_NO_THROW(validate(s));
}

}  // namespace
}  // namespace abq::quant

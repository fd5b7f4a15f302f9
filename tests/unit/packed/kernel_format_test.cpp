// The QuantSpec <-> kernel format adapter against the formats kernels/kernels.h spells out: W2* is
// "an unsigned weight format with bits = 3, levels = 5", signed formats carry no zero-points, G is
// 64, 128 or K; activations fuse only as the kernels' per-token quantizer
// (kernels/reference/act_quant_reference.h).
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/packed/kernel_format.h"
#include "tests/support/quant_spec_builder.h"

namespace abq::packed {
namespace {

using quant::Granularity;
using quant::QuantSpec;

using test::quant_spec;

QuantSpec act(int bits, bool symmetric = false) {
  QuantSpec s = quant_spec(bits, Granularity::per_token);
  s.symmetric = symmetric;
  return s;
}

TEST(KernelFormat, W2StarIsThreeBitFiveLevelsAndBack) {
  const QuantSpec w2star = quant_spec(2, Granularity::per_group, 128, false, true);
  const abq_weight_format f = weight_format(w2star);
  EXPECT_EQ(f.bits, 3);
  EXPECT_EQ(f.levels, 5);
  EXPECT_EQ(f.is_signed, 0);
  EXPECT_EQ(f.group_size, 128);
  const QuantSpec back = weight_spec(f);
  EXPECT_EQ(back.bits, 2);
  EXPECT_TRUE(back.bit_balance);
  EXPECT_FALSE(back.symmetric);
  EXPECT_EQ(back.granularity, Granularity::per_group);
  EXPECT_EQ(back.group_size, 128);
  EXPECT_EQ(describe(f), "bits=3 levels=5 unsigned group=128");
}

TEST(KernelFormat, WeightFormatsRoundTrip) {
  for (const QuantSpec& s : {quant_spec(4, Granularity::per_group, 128), quant_spec(3), quant_spec(8, Granularity::per_channel, 0, true),
                             quant_spec(2, Granularity::per_group, 64, true), quant_spec(1), quant_spec(1, Granularity::per_channel, 0, false, true),
                             quant_spec(2, Granularity::per_group, 64)}) {
    const abq_weight_format f = weight_format(s);
    const QuantSpec back = weight_spec(f);
    EXPECT_EQ(back.bits, s.bits) << quant::describe(s);
    EXPECT_EQ(back.symmetric, s.symmetric) << quant::describe(s);
    EXPECT_EQ(back.levels(), s.levels()) << quant::describe(s);
    EXPECT_EQ(back.granularity, s.granularity) << quant::describe(s);
    EXPECT_EQ(back.group_size, s.group_size) << quant::describe(s);
  }
  // Symmetric W8: two's complement 8-bit; W1 with bit balance: 3 levels in 2 bits.
  EXPECT_EQ(describe(weight_format(quant_spec(8, Granularity::per_channel, 0, true))), "bits=8 levels=256 signed group=channel");
  EXPECT_EQ(describe(weight_format(quant_spec(1, Granularity::per_channel, 0, false, true))), "bits=2 levels=3 unsigned group=channel");
  // A per_tensor grid is a per-channel one whose rows share the scale.
  EXPECT_EQ(weight_format(quant_spec(4, Granularity::per_tensor)).group_size, 0);
}

TEST(KernelFormat, ProblemsNameKAndTheGroupSize) {
  EXPECT_EQ(weight_packing_problem(quant_spec(4, Granularity::per_group, 128), 576, 576), "");
  EXPECT_EQ(weight_packing_problem(quant_spec(4, Granularity::per_group, 32), 576, 576),
            "K 576, group size 32: group size 32 is not one the kernels run (64, 128, or one group per output "
            "channel: per_channel)");
  EXPECT_EQ(weight_packing_problem(quant_spec(12), 8, 1536), "K 1536, group size none: bits 12: the kernels store 1..8-bit codes");
  EXPECT_NE(weight_packing_problem(quant_spec(16), 8, 8), "");
  EXPECT_THROW(weight_format(quant_spec(4, Granularity::per_group, 256)), Error);
}

TEST(KernelFormat, KIsPaddedToTheMmaStep) {
  EXPECT_EQ(padded_k(576), 640);
  EXPECT_EQ(padded_k(1536), 1536);
  EXPECT_EQ(padded_k(64), 128);
  EXPECT_EQ(padded_k(129), 256);
}

TEST(KernelFormat, OnlyThePerTokenDynamicQuantizerFuses) {
  EXPECT_EQ(describe(activation_format(act(8))), "bits=8 levels=256 unsigned per-token");
  EXPECT_EQ(describe(activation_format(act(4, true))), "bits=4 levels=16 signed per-token");
  EXPECT_EQ(activation_format(act(16)).bits, 16);
  QuantSpec s = act(8);
  s.dynamic = false;
  EXPECT_NE(activation_fusion_problem(s).find("static ranges"), std::string::npos);
  s = act(8);
  s.granularity = Granularity::per_tensor;
  EXPECT_NE(activation_fusion_problem(s).find("per token"), std::string::npos);
  s = act(8);
  s.clip_ratio = 0.9;
  EXPECT_NE(activation_fusion_problem(s).find("clip_ratio"), std::string::npos);
  EXPECT_NE(activation_fusion_problem(act(1)).find("2..8"), std::string::npos);
  EXPECT_THROW(activation_format(s), Error);
  const QuantSpec back = activation_spec(activation_format(act(6, true)));
  EXPECT_EQ(back.bits, 6);
  EXPECT_TRUE(back.symmetric);
  EXPECT_EQ(back.granularity, Granularity::per_token);
}

}  // namespace
}  // namespace abq::packed

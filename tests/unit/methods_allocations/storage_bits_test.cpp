// quant::weight_storage_bits against sums written out by hand from the accounting in storage_bits.h
// (codes ceil(log2 levels) bits, one float16 scale per range, an asymmetric zero at the code width).
#include "framework/quant/storage_bits.h"

#include <gtest/gtest.h>
#include "tests/support/quant_spec_builder.h"

namespace abq::quant {
namespace {

using test::quant_spec;

TEST(StorageBits, AsymmetricG128Is4Point15625BitsPerWeight) {
  // 4096 x 4096: 4 bits per code; 4096 rows x 32 groups x (16 scale + 4 zero) bits
  const auto b = weight_storage_bits(quant_spec(4, Granularity::per_group, 128), 4096, 4096);
  EXPECT_EQ(b.codes, int64_t(4) * 4096 * 4096);
  EXPECT_EQ(b.scales, int64_t(4096) * 32 * 20);
  EXPECT_DOUBLE_EQ(double(b.total()) / (4096.0 * 4096.0), 4.15625);
}

TEST(StorageBits, SymmetricPerChannelStoresOneScalePerRow) {
  const auto b = weight_storage_bits(quant_spec(4, Granularity::per_channel, 0, true), 11008, 4096);
  EXPECT_EQ(b.scales, int64_t(11008) * 16);
  EXPECT_DOUBLE_EQ(double(b.total()) / (11008.0 * 4096.0), 4.0 + 16.0 / 4096.0);
}

TEST(StorageBits, BitBalanceNeedsOneMoreCodeBit) {
  // W2*: 5 levels -> 3-bit codes and zero-points; [8, 16] per channel: 3*128 codes, 8*(16+3) scales
  const auto w2star = quant_spec(2, Granularity::per_channel, 0, false, true);
  EXPECT_EQ(w2star.levels(), 5);
  EXPECT_EQ(code_bits(w2star), 3);
  const auto b = weight_storage_bits(w2star, 8, 16);
  EXPECT_EQ(b.codes, 384);
  EXPECT_EQ(b.scales, 152);
  EXPECT_EQ(code_bits(quant_spec(1, Granularity::per_channel)), 1);
  EXPECT_EQ(code_bits(quant_spec(1, Granularity::per_channel, 0, false, true)), 2);  // 3 levels
}

TEST(StorageBits, ARaggedLastGroupCountsAsAGroup) {
  // K 576 with G 128: groups of 128, 128, 128, 128, 64 -> 5 per row
  EXPECT_EQ(weight_storage_bits(quant_spec(3, Granularity::per_group, 128), 2, 576).scales, 2 * 5 * (16 + 3));
  EXPECT_EQ(weight_storage_bits(quant_spec(3, Granularity::per_tensor), 2, 576).scales, 16 + 3);
}

TEST(StorageBits, AnUnquantizedWeightIsFloat16) {
  const auto b = weight_storage_bits(QuantSpec{}, 3, 5);
  EXPECT_EQ(b.codes, 16 * 15);
  EXPECT_EQ(b.scales, 0);
}

}  // namespace
}  // namespace abq::quant

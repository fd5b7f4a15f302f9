// The latency cost of mixed-precision candidates against the roofline of kernels/launch/roofline.h
// worked out by hand: t = max(bytes / 2.9 TB/s, ops / peak) + 2 µs, with bytes = N·K·p/8 weights +
// N·G·8 scales and zero-points + M·K·q/8 activations + M·N·2 output, on K padded to 128.
#include <gtest/gtest.h>

#include "framework/packed/modelled_latency.h"
#include "tests/support/quant_spec_builder.h"

namespace abq::packed {
namespace {

using quant::Granularity;
using quant::QuantSpec;

using test::quant_spec;

const QuantSpec kNoActivationQuant = quant_spec(16, Granularity::per_token);

TEST(ModelledLatency, DecodeIsTheWeightBytesOverBandwidthOnPaddedK) {
  // SmolLM2's q_proj [576 x 576], W4 per channel, M = 1: K 576 runs as 640; one scale + zero per row.
  const double bytes = 576.0 * 640 * 4 / 8 + 576.0 * 1 * 8 + 1.0 * 640 * 16 / 8 + 1.0 * 576 * 2;  // 191,360
  EXPECT_DOUBLE_EQ(bytes, 191360.0);
  const double expected = bytes / 2.9e12 * 1e6 + 2.0;  // the fp32 FMA time (1.1e-5 µs) is below it
  EXPECT_NEAR(modelled_linear_time_us(quant_spec(4, Granularity::per_channel), kNoActivationQuant, 576, 576, 1), expected,
              1e-12);
}

TEST(ModelledLatency, PrefillTakesTheFasterIntegerPathAtItsComputeBound) {
  // up_proj [1536 x 576] W2 g128 with A8 per token, M = 512: 5 groups of 128 over K 640.
  const double bytes = 1536.0 * 640 * 2 / 8 + 1536.0 * 5 * 8 + 512.0 * 640 * 8 / 8 + 512.0 * 1536 * 2;
  const double memory_us = bytes / 2.9e12 * 1e6;                              // 0.7613 µs
  const double int8_us = 2.0 * 512 * 1536 * 640 / 1.310e15 * 1e6;            // 0.7684 µs
  const double bitplane_us = 2.0 * 512 * 1536 * 640 * 2 * 8 / 10.699e15 * 1e6;  // 1.5054 µs: 16 plane pairs
  ASSERT_LT(memory_us, int8_us);
  ASSERT_LT(int8_us, bitplane_us);
  EXPECT_NEAR(modelled_linear_time_us(quant_spec(2, Granularity::per_group, 128), quant_spec(8, Granularity::per_token), 1536, 576, 512),
              int8_us + 2.0, 1e-12);
}

TEST(ModelledLatency, FewerBitsCostLessAtDecode) {
  double last = 1e30;
  for (int bits : {8, 6, 4, 3, 2}) {
    const double us = modelled_linear_time_us(quant_spec(bits, Granularity::per_group, 64), kNoActivationQuant, 1536, 576, 1);
    EXPECT_LT(us, last) << bits;
    last = us;
  }
}

TEST(ModelledLatency, AnInputTheKernelsCannotFuseIsPricedWeightOnly) {
  const QuantSpec w = quant_spec(4, Granularity::per_channel);
  const double weight_only = modelled_linear_time_us(w, kNoActivationQuant, 576, 576, 16);
  EXPECT_DOUBLE_EQ(modelled_linear_time_us(w, quant_spec(8, Granularity::per_tensor), 576, 576, 16), weight_only);
}

TEST(ModelledLatency, AWeightTheKernelsCannotRunHasNoLatency) {
  EXPECT_LT(modelled_linear_time_us(quant_spec(4, Granularity::per_group, 96), kNoActivationQuant, 576, 576, 1), 0);
  EXPECT_LT(modelled_linear_time_us(quant_spec(16, Granularity::per_channel), kNoActivationQuant, 576, 576, 1), 0);
}

}  // namespace
}  // namespace abq::packed

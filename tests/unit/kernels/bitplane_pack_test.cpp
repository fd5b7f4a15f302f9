// Expected values: the bit-plane words below are worked out by hand from the layout in
// reference/bitplane_pack.h (LSB-first, plane b = bit b of each code); round trips must be exact.
#include <gtest/gtest.h>

#include <random>

#include "framework/core/error.h"
#include "kernels/reference/bitplane_pack.h"
#include "random_operands.h"

namespace abq::kernels::reference {
namespace {

TEST(BitplanePack, HandLayout) {
  // rows = 2, K = 64, signed 3 bits. Row 0: code −3 (101b) at k = 0, code −2 (110b) at k = 33.
  // Row 1: code −1 (111b) at k = 31.
  std::vector<int32_t> codes(128, 0);
  codes[0] = -3;
  codes[33] = -2;
  codes[64 + 31] = -1;
  const auto planes = pack_bitplanes(codes, 2, 64, 3);
  ASSERT_EQ(planes.size(), 3u * 2u * 2u);
  // [bit][row][word]
  EXPECT_EQ(planes[0], 1u);            // plane 0, row 0, word 0: bit 0 of 101b
  EXPECT_EQ(planes[1], 0u);            // plane 0, row 0, word 1: bit 0 of 110b is 0
  EXPECT_EQ(planes[2], 0x80000000u);   // plane 0, row 1, word 0: k = 31
  EXPECT_EQ(planes[4 + 0], 0u);        // plane 1, row 0, word 0: bit 1 of 101b is 0
  EXPECT_EQ(planes[4 + 1], 2u);        // plane 1, row 0, word 1: k = 33 → bit 1
  EXPECT_EQ(planes[8 + 0], 1u);        // plane 2, row 0, word 0
  EXPECT_EQ(planes[8 + 1], 2u);        // plane 2, row 0, word 1
  EXPECT_EQ(planes[8 + 2], 0x80000000u);
  EXPECT_EQ(unpack_bitplanes(planes, 2, 64, 3, true), codes);
}

TEST(BitplanePack, RoundTripsEveryWidth) {
  std::mt19937 rng(3);
  for (int bits = 1; bits <= 8; ++bits)
    for (int sym = 0; sym < 2; ++sym) {
      if (sym && bits < 2) continue;
      auto w = testing::random_weights(rng, 5, 256, {bits, 0, sym, 0});
      ASSERT_EQ(unpack_bitplanes(pack_bitplanes(w.codes, 5, 256, bits), 5, 256, bits, sym), w.codes)
          << "bits=" << bits << " signed=" << sym;
    }
  auto w2star = testing::random_weights(rng, 4, 128, {3, 5, 0, 0});
  EXPECT_EQ(unpack_bitplanes(pack_bitplanes(w2star.codes, 4, 128, 3), 4, 128, 3, false), w2star.codes);
}

TEST(BitplanePack, RejectsRaggedK) {
  try {
    pack_bitplanes(std::vector<int32_t>(40), 1, 40, 2);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "pack_bitplanes: need rows >= 1 and K a positive multiple of 32, got rows=1 K=40");
  }
}

}  // namespace
}  // namespace abq::kernels::reference

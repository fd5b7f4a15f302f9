// Expected values: slice decompositions and packed words worked out by hand from the contract in
// tile/sliced_layout.h; round trips (packer's bit positions vs the device's extract formula) must be exact.
#include <gtest/gtest.h>

#include <random>

#include "framework/core/error.h"
#include "kernels/reference/sliced_pack.h"
#include "kernels/tile/sliced_layout.h"
#include "kernels/tile/sliced_unpack.cuh"
#include "random_operands.h"

namespace abq::kernels::reference {
namespace {

TEST(SlicedPack, SliceDecomposition) {
  const int expect_widths[9][3] = {{0}, {1}, {2}, {2, 1}, {4}, {4, 1}, {4, 2}, {4, 2, 1}, {8}};
  const int expect_counts[9] = {0, 1, 1, 2, 1, 2, 2, 3, 1};
  for (int bits = 1; bits <= 8; ++bits) {
    const auto s = tile::slices_for_bits(bits);
    ASSERT_EQ(s.count, expect_counts[bits]) << bits;
    int shift = 0;
    for (int i = 0; i < s.count; ++i) {
      EXPECT_EQ(s.width[i], expect_widths[bits][i]) << bits;
      EXPECT_EQ(s.shift[i], shift) << bits;
      shift += s.width[i];
    }
    EXPECT_EQ(shift, bits);
  }
}

TEST(SlicedPack, HandLayoutFourBit) {
  // One row, K = 32, codes 1..8 at k = 0..7 then zeros. Element e sits at bit 8·(e%4) + 4·(e/4):
  // byte lanes hold (e4<<4 | e0), (e5<<4 | e1), ... = 0x51, 0x62, 0x73, 0x84.
  std::vector<int32_t> codes(32, 0);
  for (int k = 0; k < 8; ++k) codes[k] = k + 1;
  const auto words = pack_sliced(codes, 1, 32, 4);
  ASSERT_EQ(words.size(), 4u);
  EXPECT_EQ(words[0], 0x84736251u);
  EXPECT_EQ(words[1], 0u);
}

TEST(SlicedPack, HandLayoutThreeBit) {
  // 3 bits = 2-bit slice (bits 0..1) then 1-bit slice (bit 2); one row, K = 32; code 7 at k = 5.
  // 2-bit slice: 16 elements per word, e = 5 → bit 8·1 + 2·1 = 10, field 3 → 0xC00.
  // 1-bit slice: e = 5 → bit 8·1 + 1·1 = 9 → 0x200. Slice 1 starts after N·K·2/32 = 2 words.
  std::vector<int32_t> codes(32, 0);
  codes[5] = 7;
  const auto words = pack_sliced(codes, 1, 32, 3);
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[0], 0xC00u);
  EXPECT_EQ(words[1], 0u);
  EXPECT_EQ(words[2], 0x200u);
}

TEST(SlicedPack, RoundTripsEveryWidth) {
  std::mt19937 rng(5);
  for (int bits = 1; bits <= 8; ++bits)
    for (int sym = 0; sym < 2; ++sym) {
      if (sym && bits < 2) continue;
      auto w = testing::random_weights(rng, 6, 384, {bits, 0, sym, 0});
      const auto words = pack_sliced(w.codes, 6, 384, bits);
      ASSERT_EQ(words.size(), static_cast<size_t>(6 * 384 * bits / 32));
      ASSERT_EQ(unpack_sliced(words, 6, 384, bits, sym), w.codes) << "bits=" << bits << " signed=" << sym;
    }
  auto w2star = testing::random_weights(rng, 3, 128, {3, 5, 0, 0});
  EXPECT_EQ(unpack_sliced(pack_sliced(w2star.codes, 3, 128, 3), 3, 128, 3, false), w2star.codes);
}

TEST(SlicedPack, Int8ContainersKeepBytes) {
  EXPECT_EQ(pack_int8_containers({-128, -1, 0, 255}), (std::vector<uint8_t>{0x80, 0xff, 0x00, 0xff}));
  EXPECT_THROW(pack_int8_containers({256}), Error);
}

}  // namespace
}  // namespace abq::kernels::reference

namespace abq::kernels::reference {
namespace {

// The int8 path's arithmetic on the CPU: offset-binary weights from tile::unpack_u8x4, activation
// bytes ^ 0x80 for signed codes, zero-points shifted by 2^(p−1) / 128, raw byte products summed
// per group and folded. Must equal the exact integer reference.
TEST(SlicedPack, Int8PathOffsetAlgebraEqualsReference) {
  std::mt19937 rng(77);
  for (int wb = 1; wb <= 9; ++wb)
    for (int wsym = 0; wsym < 2; ++wsym)
      for (int xsym = 0; xsym < 2; ++xsym) {
        if (wsym && (wb < 2 || wb == 9)) continue;
        const abq_weight_format wf{wb == 9 ? 3 : wb, wb == 9 ? 5 : 0, wsym, wb % 2 ? 64 : 0};
        const abq_act_format xf{1 + (wb % 7) + 1, 0, xsym};
        const int64_t m = 3, n = 5, k = 256;
        const auto w = testing::random_weights(rng, n, k, wf);
        const auto x = testing::random_acts(rng, m, k, xf);
        const auto words = pack_sliced(w.codes, n, k, wf.bits);
        const auto bytes = pack_int8_containers(x.codes);
        const tile::SlicedView view = tile::make_sliced_view(words.data(), n, k, wf.bits, wsym);
        const int64_t L = launch::group_length(k, wf.group_size), G = launch::group_count(k, wf.group_size);
        std::vector<int64_t> got(static_cast<size_t>(m * n * G));
        for (int64_t mi = 0; mi < m; ++mi)
          for (int64_t ni = 0; ni < n; ++ni)
            for (int64_t g = 0; g < G; ++g) {
              int64_t d = 0, sx = 0, sw = 0;
              for (int64_t k0 = g * L; k0 < (g + 1) * L; k0 += 4) {
                const uint32_t wq = tile::unpack_u8x4(view, ni, k0);
                for (int e = 0; e < 4; ++e) {
                  const int64_t wv = (wq >> (8 * e)) & 0xff;
                  const int64_t xv = bytes[mi * k + k0 + e] ^ (xsym ? 0x80 : 0);
                  d += wv * xv;
                  sx += xv;
                  sw += wv;
                }
              }
              const int64_t zx = xsym ? 128 : x.zeros[mi];
              const int64_t zw = wsym ? (1 << (wf.bits - 1)) : w.zeros[ni * G + g];
              got[(mi * n + ni) * G + g] = d - zw * sx - zx * sw + L * zx * zw;
            }
        ASSERT_EQ(got, integer_group_sums(w, x)) << testing::describe_case(m, n, k, wf, xf);
      }
}

}  // namespace
}  // namespace abq::kernels::reference

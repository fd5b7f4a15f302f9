// Dequantization tests. Every block is assembled by hand from chosen d / dmin / scales / quants
// following the ggml block layouts (ggml-common.h); the expected floats are hand-computed from the
// published formulas (written next to each literal) and, for whole blocks, from the same formula
// evaluated per element on the chosen quants.
#include "framework/io/gguf_dequant.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "framework/io/float16.h"
#include "framework/io/gguf.h"
#include "tests/unit/io/gguf_writer.h"

namespace abq::io {
namespace {

using namespace abq::io::testing;

constexpr uint16_t kHalfOne = 0x3C00, kHalfHalf = 0x3800, kHalfQuarter = 0x3400, kHalfEighth = 0x3000,
                   kHalfMinusOne = 0xBC00;

std::vector<float> decode(GgmlType type, const std::vector<uint8_t>& block, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(type, block.data(), out.data(), n);
  return out;
}

TEST(Float16, BitPatterns) {
  EXPECT_EQ(f16_to_f32(0x3C00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xC000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);      // 1 + 0x155/1024 = 1.3330078125, times 2^-2
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);
  EXPECT_TRUE(std::isinf(f16_to_f32(0x7C00)));
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7E00)));
  EXPECT_TRUE(std::signbit(f16_to_f32(0x8000)));
  EXPECT_EQ(bf16_to_f32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xC0A0), -5.0f);
}

TEST(Dequant, TypeTable) {
  EXPECT_EQ(ggml_type_traits(12).block_bytes, 144);  // Q4_K: 2 + 2 + 12 + 128
  EXPECT_EQ(ggml_type_traits(13).block_bytes, 176);  // Q5_K: + 32 bytes of high bits
  EXPECT_EQ(ggml_type_traits(14).block_bytes, 210);  // Q6_K: 128 + 64 + 16 + 2
  EXPECT_EQ(ggml_type_traits(3).block_bytes, 20);    // Q4_1: 2 + 2 + 16
  EXPECT_EQ(ggml_type_traits(4).name, nullptr);      // ids 4 and 5 were removed from ggml
  EXPECT_EQ(ggml_type_name(GgmlType::BF16), "BF16");
}

TEST(Dequant, Q4_0) {
  Bytes b;
  b.u16(kHalfHalf);  // d = 0.5
  for (int j = 0; j < 16; ++j) b.u8(static_cast<uint8_t>(j | (15 - j) << 4));
  const auto y = decode(GgmlType::Q4_0, b.b, 32);
  EXPECT_EQ(y[0], -4.0f);   // 0.5 * (0 - 8)
  EXPECT_EQ(y[15], 3.5f);   // 0.5 * (15 - 8)
  EXPECT_EQ(y[16], 3.5f);   // high nibble of qs[0] = 15
  EXPECT_EQ(y[31], -4.0f);  // high nibble of qs[15] = 0
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * (j - 8));
    EXPECT_EQ(y[j + 16], 0.5f * (7 - j));
  }
}

TEST(Dequant, Q4_1) {
  Bytes b;
  b.u16(kHalfQuarter);   // d = 0.25
  b.u16(kHalfMinusOne);  // m = -1
  for (int j = 0; j < 16; ++j) b.u8(static_cast<uint8_t>(j | (15 - j) << 4));
  const auto y = decode(GgmlType::Q4_1, b.b, 32);
  EXPECT_EQ(y[3], -0.25f);  // 0.25 * 3 - 1
  EXPECT_EQ(y[16], 2.75f);  // 0.25 * 15 - 1
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.25f * j - 1.0f);
    EXPECT_EQ(y[j + 16], 0.25f * (15 - j) - 1.0f);
  }
}

TEST(Dequant, Q5_0AndQ5_1) {
  Bytes b;
  b.u16(kHalfOne);
  b.u32(0xAAAA5555u);  // bit j (j < 16) set for even j; bit 16 + j set for odd j
  for (int j = 0; j < 16; ++j) b.u8(static_cast<uint8_t>(j | (15 - j) << 4));
  const auto y = decode(GgmlType::Q5_0, b.b, 32);
  EXPECT_EQ(y[0], 0.0f);    // (0 | 16) - 16
  EXPECT_EQ(y[1], -15.0f);  // 1 - 16
  EXPECT_EQ(y[16], -1.0f);  // 15 - 16
  EXPECT_EQ(y[17], 14.0f);  // (14 | 16) - 16

  Bytes c;
  c.u16(kHalfHalf);  // d = 0.5
  c.u16(kHalfOne);   // m = 1
  c.u32(0xAAAA5555u);
  for (int j = 0; j < 16; ++j) c.u8(static_cast<uint8_t>(j | (15 - j) << 4));
  const auto z = decode(GgmlType::Q5_1, c.b, 32);
  EXPECT_EQ(z[0], 9.0f);    // 0.5 * 16 + 1
  EXPECT_EQ(z[1], 1.5f);    // 0.5 * 1 + 1
  EXPECT_EQ(z[17], 16.0f);  // 0.5 * 30 + 1
}

TEST(Dequant, Q8_0) {
  Bytes b;
  b.u16(kHalfEighth);  // d = 0.125
  for (int j = 0; j < 32; ++j) b.u8(static_cast<uint8_t>(static_cast<int8_t>(j - 16)));
  const auto y = decode(GgmlType::Q8_0, b.b, 32);
  EXPECT_EQ(y[0], -2.0f);     // 0.125 * -16
  EXPECT_EQ(y[31], 1.875f);   // 0.125 * 15
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 0.125f * (j - 16));
}

// Packs eight 6-bit (scale, min) pairs into the 12 bytes used by Q4_K / Q5_K.
std::vector<uint8_t> pack_k4_scales(const int sc[8], const int mn[8]) {
  std::vector<uint8_t> s(12, 0);
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>((mn[j] & 63) | ((mn[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
  }
  return s;
}
const int kSc[8] = {1, 2, 63, 17, 33, 48, 5, 60};
const int kMn[8] = {0, 3, 10, 63, 20, 40, 1, 7};

TEST(Dequant, Q4_K) {
  Bytes b;
  b.u16(kHalfOne);   // d = 1
  b.u16(kHalfHalf);  // dmin = 0.5
  b.raw(pack_k4_scales(kSc, kMn));
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) b.u8(static_cast<uint8_t>((l % 16) | (15 - l % 16) << 4));
  ASSERT_EQ(b.b.size(), 144u);
  const auto y = decode(GgmlType::Q4_K, b.b, 256);
  EXPECT_EQ(y[0], 0.0f);             // sub-block 0: 1*1*0 - 0.5*0
  EXPECT_EQ(y[1], 1.0f);             // 1*1*1 - 0
  EXPECT_EQ(y[64 + 5], 310.0f);      // sub-block 2: 63*5 - 0.5*10
  EXPECT_EQ(y[96 + 5], 138.5f);      // sub-block 3, high nibble 10: 17*10 - 0.5*63
  EXPECT_EQ(y[128 + 3], 89.0f);      // sub-block 4 (scale/min use the high bits): 33*3 - 0.5*20
  EXPECT_EQ(y[192 + 10], 49.5f);     // sub-block 6: 5*10 - 0.5*1
  EXPECT_EQ(y[255], -3.5f);          // sub-block 7, q 0: 0 - 0.5*7
  for (int e = 0; e < 256; ++e) {
    const int sb = e / 32, l = e % 32;
    const int q = (sb % 2 == 0) ? l % 16 : 15 - l % 16;
    EXPECT_EQ(y[e], 1.0f * kSc[sb] * q - 0.5f * kMn[sb]) << e;
  }
}

TEST(Dequant, Q5_K) {
  Bytes b;
  b.u16(kHalfOne);
  b.u16(kHalfHalf);
  b.raw(pack_k4_scales(kSc, kMn));
  for (int l = 0; l < 32; ++l) b.u8(l % 2 ? 0xAA : 0x55);  // qh: even l -> low halves +16, odd -> high halves
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) b.u8(static_cast<uint8_t>((l % 16) | (15 - l % 16) << 4));
  ASSERT_EQ(b.b.size(), 176u);
  const auto y = decode(GgmlType::Q5_K, b.b, 256);
  EXPECT_EQ(y[64 + 5], 310.0f);    // odd l, low half: no 5th bit: 63*5 - 5
  EXPECT_EQ(y[64 + 4], 1255.0f);   // even l, low half: q = 4 + 16: 63*20 - 5
  EXPECT_EQ(y[96 + 5], 410.5f);    // odd l, high half: q = 10 + 16: 17*26 - 31.5
  EXPECT_EQ(y[255], 956.5f);       // q = 0 + 16: 60*16 - 3.5
  for (int e = 0; e < 256; ++e) {
    const int sb = e / 32, l = e % 32;
    int q = (sb % 2 == 0) ? l % 16 : 15 - l % 16;
    if ((sb % 2 == 0) == (l % 2 == 0)) q += 16;
    EXPECT_EQ(y[e], 1.0f * kSc[sb] * q - 0.5f * kMn[sb]) << e;
  }
}

TEST(Dequant, Q6_K) {
  // desired 6-bit quants q[e] = 7e mod 64; pack into ql / qh as the layout says
  std::vector<uint8_t> ql(128, 0), qh(64, 0);
  auto q6 = [](int e) { return (7 * e) % 64; };
  for (int e = 0; e < 256; ++e) {
    const int n = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
    const int q = q6(e);
    uint8_t& low = ql[64 * n + l + (quarter % 2 ? 32 : 0)];
    low |= static_cast<uint8_t>((q & 15) << (quarter >= 2 ? 4 : 0));
    qh[32 * n + l] |= static_cast<uint8_t>((q >> 4) << (2 * quarter));
  }
  const int8_t sc[16] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 15, -16};
  Bytes b;
  b.raw(ql);
  b.raw(qh);
  for (int8_t s : sc) b.u8(static_cast<uint8_t>(s));
  b.u16(kHalfHalf);  // d = 0.5
  ASSERT_EQ(b.b.size(), 210u);
  const auto y = decode(GgmlType::Q6_K, b.b, 256);
  EXPECT_EQ(y[0], -16.0f);    // 0.5 * 1 * (0 - 32)
  EXPECT_EQ(y[1], -12.5f);    // 0.5 * 1 * (7 - 32)
  EXPECT_EQ(y[40], -12.0f);   // scale[2] = 3, q = 280 mod 64 = 24: 0.5 * 3 * -8
  EXPECT_EQ(y[200], 156.0f);  // scale[12] = 13, q = 1400 mod 64 = 56: 0.5 * 13 * 24
  EXPECT_EQ(y[255], -200.0f); // scale[15] = -16, q = 57: 0.5 * -16 * 25
  for (int e = 0; e < 256; ++e) {
    const int n = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
    EXPECT_EQ(y[e], 0.5f * sc[8 * n + l / 16 + 2 * quarter] * (q6(e) - 32)) << e;
  }
}

TEST(Dequant, ThroughGgufFileRowMajorOverBlocks) {
  // Q8_0 tensor with ggml shape [32, 2]: two rows of one block each, rows stored one after another.
  Bytes b;
  b.u16(kHalfOne);
  for (int j = 0; j < 32; ++j) b.u8(static_cast<uint8_t>(j));
  b.u16(kHalfMinusOne);
  for (int j = 0; j < 32; ++j) b.u8(static_cast<uint8_t>(j));
  GgufWriter w;
  w.tensor("w", {32, 2}, 8, b.b);
  w.tensor("bf", {2}, 30, u16_bytes({0x3F80, 0xC0A0}));
  write_file(temp_path("q8.gguf"), w.build());
  const GgufFile g = GgufFile::open(temp_path("q8.gguf"));
  const auto y = g.dequantize("w");
  ASSERT_EQ(y.size(), 64u);
  EXPECT_EQ(y[5], 5.0f);
  EXPECT_EQ(y[32 + 5], -5.0f);  // second row, d = -1
  EXPECT_EQ(g.dequantize("bf"), (std::vector<float>{1.0f, -5.0f}));
}

}  // namespace
}  // namespace abq::io

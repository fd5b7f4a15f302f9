// The GGUF writer and its block encoders. References: IEEE 754 binary16 (bit patterns worked out by
// hand below), the ggml block structs of ggml-common.h (block_q4_0 = half d + u8 qs[16] with element
// j < 16 in the low nibble of qs[j] and j + 16 in the high nibble, stored as code + 8; block_q4_1 =
// half d, half m + the same nibbles; block_q8_0 = half d + i8 qs[32]) for hand-assembled blocks, and
// abq's own GGUF reader (gguf.h) for the file round trip.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "framework/core/error.h"
#include "framework/io/float16.h"
#include "framework/io/gguf.h"
#include "framework/io/gguf_writer.h"

namespace abq::io {
namespace {

float bits_to_f32(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

TEST(GgufWrite, Float16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(-2.5f), 0xC100);         // -1.25 · 2^1: sign, exponent 16, mantissa 0x100
  EXPECT_EQ(f32_to_f16(0.1f), 0x2E66);          // 0.0999755859375 (0x2E66) is nearest
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);      // largest finite
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7BFF);      // below the half-way point to 65536
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);      // the tie rounds to even: inf
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // tie between 0 and 2^-24: even 0
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);  // above the tie
  EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 · 2^-24 ties to even 2
  EXPECT_EQ(f32_to_f16(bits_to_f32(0x3F801000u)), 0x3C00);  // 1 + 2^-11: tie, even mantissa stays
  EXPECT_EQ(f32_to_f16(bits_to_f32(0x3F803000u)), 0x3C02);  // 1 + 3·2^-11: tie, odd mantissa rounds up
  EXPECT_EQ(f32_to_f16(bits_to_f32(0x387FF000u)), 0x0400);  // just under 2^-14 rounds up to the smallest normal
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  // Every binary16 value survives f16 -> f32 -> f16 (NaNs stay NaN).
  for (uint32_t h = 0; h < 0x10000u; ++h) {
    const float f = f16_to_f32(uint16_t(h));
    if (std::isnan(f))
      EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(f)))) << std::hex << h;
    else
      ASSERT_EQ(f32_to_f16(f), h) << std::hex << h;
  }
}

TEST(GgufWrite, Q4_0BlockByHand) {
  std::vector<int32_t> codes(32);
  for (int j = 0; j < 16; ++j) codes[size_t(j)] = j - 8, codes[size_t(j + 16)] = 7 - j;
  const uint16_t d = 0x3800;  // 0.5
  const auto bytes = encode_gguf_blocks(GgmlType::Q4_0, codes.data(), &d, nullptr, 32);
  // d little-endian, then qs[j] = (codes[j] + 8) | (codes[j + 16] + 8) << 4 = j | (15 - j) << 4.
  const std::vector<uint8_t> want = {0x00, 0x38, 0xF0, 0xE1, 0xD2, 0xC3, 0xB4, 0xA5, 0x96, 0x87,
                                     0x78, 0x69, 0x5A, 0x4B, 0x3C, 0x2D, 0x1E, 0x0F};
  EXPECT_EQ(bytes, want);
  std::vector<float> x(32);
  dequantize_row(GgmlType::Q4_0, bytes.data(), x.data(), 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(x[size_t(j)], 0.5f * float(codes[size_t(j)])) << j;
}

TEST(GgufWrite, Q4_1BlockByHand) {
  std::vector<int32_t> codes(32);
  for (int j = 0; j < 32; ++j) codes[size_t(j)] = j % 16;
  const uint16_t d = 0x3C00, m = 0xC100;  // 1.0, -2.5
  const auto bytes = encode_gguf_blocks(GgmlType::Q4_1, codes.data(), &d, &m, 32);
  std::vector<uint8_t> want = {0x00, 0x3C, 0x00, 0xC1};
  for (int j = 0; j < 16; ++j) want.push_back(uint8_t(j | j << 4));  // element j and j + 16 share code j
  EXPECT_EQ(bytes, want);
  std::vector<float> x(32);
  dequantize_row(GgmlType::Q4_1, bytes.data(), x.data(), 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(x[size_t(j)], float(j % 16) - 2.5f) << j;
}

TEST(GgufWrite, Q8_0BlocksByHand) {
  std::vector<int32_t> codes(64, 0);
  codes[0] = -128, codes[1] = 127, codes[2] = -1, codes[32] = 5;
  const uint16_t d[2] = {0x3400, 0xBC00};  // 0.25, -1.0
  const auto bytes = encode_gguf_blocks(GgmlType::Q8_0, codes.data(), d, nullptr, 64);
  ASSERT_EQ(bytes.size(), 68u);
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 5), (std::vector<uint8_t>{0x00, 0x34, 0x80, 0x7F, 0xFF}));
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin() + 34, bytes.begin() + 37), (std::vector<uint8_t>{0x00, 0xBC, 0x05}));
  std::vector<float> x(64);
  dequantize_row(GgmlType::Q8_0, bytes.data(), x.data(), 64);
  EXPECT_EQ(x[0], -32.0f);
  EXPECT_EQ(x[1], 31.75f);
  EXPECT_EQ(x[32], -5.0f);
}

TEST(GgufWrite, CodesOutsideTheTypeAreRefusedByElement) {
  std::vector<int32_t> codes(32, 0);
  codes[17] = 8;
  const uint16_t d = 0x3C00;
  try {
    encode_gguf_blocks(GgmlType::Q4_0, codes.data(), &d, nullptr, 32);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Q4_0: code 8 of element 17 outside [-8, 7]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(encode_gguf_blocks(GgmlType::Q4_1, codes.data(), &d, &d, 16), Error);  // not whole blocks
  EXPECT_THROW(encode_gguf_blocks(GgmlType::Q5_0, codes.data(), &d, &d, 32), Error);  // no encoder
}

TEST(GgufWrite, FileReadsBackThroughTheReader) {
  const std::string path = ::testing::TempDir() + "/abq_gguf_write_" + std::to_string(getpid()) + ".gguf";
  GgufValue tokens;
  tokens.type = GgufValueType::ARRAY;
  tokens.elem_type = GgufValueType::STRING;
  tokens.strings = {"<s>", "a", "b"};
  GgufValue scores;
  scores.type = GgufValueType::ARRAY;
  scores.elem_type = GgufValueType::FLOAT32;
  scores.floats = {0.0, -1.5, -2.0};
  GgufValue types;
  types.type = GgufValueType::ARRAY;
  types.elem_type = GgufValueType::INT32;
  types.ints = {3, 1, -1};
  std::vector<GgufKeyValue> kv = {{"general.architecture", gguf_string("llama")},
                                  {"general.alignment", gguf_u32(64)},
                                  {"llama.rope.freq_base", gguf_f32(10000.0f)},
                                  {"tokenizer.ggml.tokens", tokens},
                                  {"tokenizer.ggml.scores", scores},
                                  {"tokenizer.ggml.token_type", types}};
  GgufTensorToWrite f32{"norm.weight", {3}, GgmlType::F32, std::vector<uint8_t>(12)};
  const float norm[3] = {1.0f, -2.0f, 0.5f};
  std::memcpy(f32.bytes.data(), norm, 12);
  std::vector<int32_t> codes(64);
  for (int j = 0; j < 64; ++j) codes[size_t(j)] = j - 32;
  const uint16_t d[2] = {0x3C00, 0x3800};
  GgufTensorToWrite q8{"blk.0.attn_q.weight", {32, 2}, GgmlType::Q8_0, encode_gguf_blocks(GgmlType::Q8_0, codes.data(), d, nullptr, 64)};
  write_gguf(path, kv, {f32, q8});

  const auto file = GgufFile::open(path);
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.alignment(), 64u);
  EXPECT_EQ(file.get_string("general.architecture"), "llama");
  EXPECT_EQ(file.get_float("llama.rope.freq_base"), 10000.0);
  EXPECT_EQ(file.get_string_array("tokenizer.ggml.tokens"), tokens.strings);
  EXPECT_EQ(file.get_float_array("tokenizer.ggml.scores"), scores.floats);
  EXPECT_EQ(file.get_int_array("tokenizer.ggml.token_type"), types.ints);
  EXPECT_EQ(file.keys().size(), kv.size());
  ASSERT_EQ(file.tensors().size(), 2u);
  EXPECT_EQ(file.tensor("blk.0.attn_q.weight").shape, (std::vector<int64_t>{32, 2}));
  EXPECT_EQ(file.tensor("blk.0.attn_q.weight").offset % 64, 0u);
  EXPECT_EQ(file.dequantize("norm.weight"), (std::vector<float>{1.0f, -2.0f, 0.5f}));
  const auto w = file.dequantize("blk.0.attn_q.weight");
  for (int j = 0; j < 64; ++j) EXPECT_EQ(w[size_t(j)], float(j - 32) * (j < 32 ? 1.0f : 0.5f)) << j;
  std::remove(path.c_str());
}

TEST(GgufWrite, BadTensorsAreRefusedByName) {
  const std::string path = ::testing::TempDir() + "/abq_gguf_bad_" + std::to_string(getpid()) + ".gguf";
  GgufTensorToWrite short_bytes{"blk.1.ffn_up.weight", {32, 2}, GgmlType::Q4_0, std::vector<uint8_t>(18)};
  try {
    write_gguf(path, {}, {short_bytes});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'blk.1.ffn_up.weight': 18 bytes for Q4_0 of its shape, expected 36"),
              std::string::npos) << e.what();
  }
  GgufTensorToWrite ragged{"blk.1.ffn_down.weight", {48, 1}, GgmlType::Q8_0, std::vector<uint8_t>(51)};
  try {
    write_gguf(path, {}, {ragged});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row length 48 is not whole Q8_0 blocks of 32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(write_gguf(path, {{"a", gguf_u32(1)}, {"a", gguf_u32(2)}}, {}), Error);  // duplicate key
  EXPECT_THROW(write_gguf(path, {{"general.alignment", gguf_u32(48)}}, {}), Error);     // not a power of two
  std::remove(path.c_str());
}

}  // namespace
}  // namespace abq::io

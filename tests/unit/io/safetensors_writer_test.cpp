// write_safetensors against the reader (safetensors.h, itself tested against files written by the
// Python safetensors package's layout) and against the format's byte layout worked out by hand.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <fstream>

#include "framework/core/error.h"
#include "framework/io/safetensors.h"
#include "framework/io/safetensors_writer.h"

namespace abq::io {
namespace {

std::string temp_file(const char* name) {
  return ::testing::TempDir() + "/abq_st_writer_" + std::to_string(getpid()) + "_" + name;
}

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

TEST(SafetensorsWriter, RoundTripsThroughTheReader) {
  const std::string path = temp_file("rt.safetensors");
  const std::vector<float> a = {1.5f, -2.0f, 0.25f, 3.0f, 4.0f, -0.5f};
  // F16 bit patterns: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800 (IEEE 754 binary16)
  const std::vector<uint16_t> h = {0x3C00, 0xC000, 0x3800};
  write_safetensors(path, {{"a", SafetensorsDtype::F32, {2, 3}, bytes_of(a)}, {"h", SafetensorsDtype::F16, {3}, bytes_of(h)}},
                    {{"format", "pt"}});
  auto ck = SafetensorsCheckpoint::open(path);
  EXPECT_EQ(ck.view("a").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ck.read_f32("a"), a);
  EXPECT_EQ(ck.view("h").dtype, SafetensorsDtype::F16);
  EXPECT_EQ(ck.read_f32("h"), (std::vector<float>{1.0f, -2.0f, 0.5f}));
  // Header length: 8 bytes little-endian, a multiple of 8 (the data buffer stays aligned).
  std::ifstream in(path, std::ios::binary);
  uint8_t len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  EXPECT_EQ(n % 8, 0u);
  std::remove(path.c_str());
}

TEST(SafetensorsWriter, ErrorsNameTheTensor) {
  const std::string path = temp_file("bad.safetensors");
  try {
    write_safetensors(path, {{"w", SafetensorsDtype::F32, {2, 2}, std::vector<uint8_t>(12)}});
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'w' has 12 bytes; F32 x 4 elements needs 16"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(write_safetensors(path, {{"x", SafetensorsDtype::F32, {1}, std::vector<uint8_t>(4)},
                                        {"x", SafetensorsDtype::F32, {1}, std::vector<uint8_t>(4)}}),
               Error);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace abq::io

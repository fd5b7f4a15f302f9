// save_tensors / load_tensors: the expected values are the saved tensors themselves (a round trip
// must be bit-identical), and the error text for a truncated file is pinned.
#include "framework/calib/tensor_file.h"

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "framework/core/error.h"

namespace abq::calib {
namespace {

std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("abq_calib_tensor_file_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

TEST(TensorFile, RoundTripIsBitIdentical) {
  torch::manual_seed(3);
  NamedTensors in = {{"a.f32", torch::randn({3, 5})},
                     {"b.f64", torch::randn({2, 1, 4}, torch::kFloat64)},
                     {"c.f16", torch::randn({7}).to(torch::kFloat16)},
                     {"d.bf16", torch::randn({2, 2}).to(torch::kBFloat16)},
                     {"e.i64", torch::arange(6, torch::kInt64).reshape({2, 3})},
                     {"f.i32.scalar", torch::tensor(-9, torch::kInt32).reshape({})},
                     {"g.noncontiguous", torch::randn({4, 3}).t()}};
  const auto path = temp_path("round_trip.bin");
  save_tensors(path, in);
  const auto out = load_tensors(path);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].first, in[i].first);
    EXPECT_EQ(out[i].second.scalar_type(), in[i].second.scalar_type());
    EXPECT_EQ(out[i].second.sizes(), in[i].second.sizes());
    EXPECT_TRUE(torch::equal(out[i].second, in[i].second)) << in[i].first;
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(TensorFile, TruncatedFileNamesTheOffset) {
  const auto path = temp_path("truncated.bin");
  save_tensors(path, {{"x", torch::zeros({4}, torch::kFloat32)}});
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 4);  // 16 data bytes -> 12
  try {
    load_tensors(path);
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    // magic 8 + count 8 + name_len 8 + "x" 1 + dtype 8 + ndim 8 + dim 8 + nbytes 8 = offset 57
    EXPECT_EQ(e.message(), "tensor file " + path + " is truncated: needs 16 bytes at offset 57, file has 69");
  }
}

}  // namespace
}  // namespace abq::calib

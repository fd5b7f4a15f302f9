// Safetensors reader tests. Expected values: files are written here by safetensors_bytes() (format
// from the safetensors README) with known F32 values and F16 / BF16 bit patterns whose float values
// are exact (1.0 = 0x3C00 / 0x3F80, -2.0 = 0xC000 / 0xC000, 0.5 = 0x3800 / 0x3F00).
#include "framework/io/safetensors.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "tests/unit/io/gguf_writer.h"

namespace abq::io {
namespace {

using namespace abq::io::testing;
namespace fs = std::filesystem;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

std::string fresh_dir(const std::string& name) {
  const std::string dir = temp_path(name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Safetensors, SingleFileAllFloatDtypes) {
  const std::string path = temp_path("single.safetensors");
  write_file(path, safetensors_bytes({{"w32", "F32", "[2, 2]", f32_bytes({1, 2, 3, 4})},
                                      {"w16", "F16", "[3]", u16_bytes({0x3C00, 0xC000, 0x3800})},
                                      {"wbf", "BF16", "[1, 3]", u16_bytes({0x3F80, 0xC000, 0x3F00})},
                                      {"ids", "I64", "[1]", std::vector<uint8_t>(8, 0)},
                                      {"empty", "F32", "[0, 4]", {}}},
                                     R"({"format":"pt"})"));
  const SafetensorsCheckpoint ck = SafetensorsCheckpoint::open(path);
  EXPECT_EQ(ck.tensor_names(), (std::vector<std::string>{"empty", "ids", "w16", "w32", "wbf"}));
  EXPECT_TRUE(ck.has("w32"));
  EXPECT_FALSE(ck.has("w64"));
  EXPECT_EQ(ck.metadata().at("format"), "pt");
  EXPECT_EQ(ck.read_f32("w32"), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(ck.read_f32("w16"), (std::vector<float>{1, -2, 0.5}));
  EXPECT_EQ(ck.read_f32("wbf"), (std::vector<float>{1, -2, 0.5}));
  EXPECT_TRUE(ck.read_f32("empty").empty());
  const TensorView v = ck.view("w16");
  EXPECT_EQ(v.dtype, SafetensorsDtype::F16);
  EXPECT_EQ(v.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(v.size_bytes, 6u);
  EXPECT_EQ(v.data[0], 0x00);
  EXPECT_EQ(v.data[1], 0x3C);
  EXPECT_EQ(v.file, path);
  EXPECT_EQ(error_of([&] { ck.read_f32("ids"); }),
            path + ": tensor 'ids' has dtype I64; read_f32 supports F32, F16 and BF16 (use view() for raw bytes)");
  EXPECT_EQ(error_of([&] { ck.view("w33"); }), path + ": no tensor named 'w33' (5 tensors); did you mean 'w32'?");
}

TEST(Safetensors, DirectoryWithSingleFile) {
  const std::string dir = fresh_dir("st_single_dir");
  write_file(dir + "/model.safetensors", safetensors_bytes({{"a", "F32", "[1]", f32_bytes({7})}}));
  EXPECT_EQ(SafetensorsCheckpoint::open(dir).read_f32("a"), (std::vector<float>{7}));
  const std::string empty = fresh_dir("st_empty_dir");
  EXPECT_NE(error_of([&] { SafetensorsCheckpoint::open(empty); }).find("neither model.safetensors.index.json nor"),
            std::string::npos);
}

TEST(Safetensors, ShardedWithIndex) {
  const std::string dir = fresh_dir("st_sharded");
  write_file(dir + "/model-00001-of-00002.safetensors",
             safetensors_bytes({{"model.embed_tokens.weight", "F32", "[2]", f32_bytes({1, 2})}}));
  write_file(dir + "/model-00002-of-00002.safetensors",
             safetensors_bytes({{"lm_head.weight", "BF16", "[2]", u16_bytes({0x3F00, 0xC000})},
                                {"model.norm.weight", "F32", "[1]", f32_bytes({3})}}));
  write_text(dir + "/model.safetensors.index.json",
             R"({"metadata": {"total_size": 14}, "weight_map": {
                  "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                  "lm_head.weight": "model-00002-of-00002.safetensors",
                  "model.norm.weight": "model-00002-of-00002.safetensors"}})");
  for (const std::string& src : {dir, dir + "/model.safetensors.index.json"}) {
    const SafetensorsCheckpoint ck = SafetensorsCheckpoint::open(src);
    EXPECT_EQ(ck.tensor_names().size(), 3u);
    EXPECT_EQ(ck.read_f32("model.embed_tokens.weight"), (std::vector<float>{1, 2}));
    EXPECT_EQ(ck.read_f32("lm_head.weight"), (std::vector<float>{0.5, -2}));
    EXPECT_EQ(ck.view("model.norm.weight").file, dir + "/model-00002-of-00002.safetensors");
  }
}

// release() / release_shard() give back the pages of one tensor's bytes / of its shard; the tensor stays readable (paged back in
// from the file). The resident-page accounting itself is tested in mapped_file_test.cpp.
TEST(Safetensors, ReleaseKeepsTensorsReadable) {
  const std::string path = temp_path("release.safetensors");
  std::vector<float> big(5000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = float(i) * 0.25f;
  write_file(path, safetensors_bytes({{"a", "F32", "[2]", f32_bytes({1, 2})}, {"big", "F32", "[5000]", f32_bytes(big)}}));
  const SafetensorsCheckpoint ck = SafetensorsCheckpoint::open(path);
  EXPECT_EQ(ck.read_f32("big"), big);
  ck.release("big");
  ck.release("a");
  EXPECT_EQ(ck.read_f32("big"), big);
  EXPECT_EQ(ck.read_f32("a"), (std::vector<float>{1, 2}));
  ck.release_shard("a");
  EXPECT_EQ(ck.read_f32("big"), big);
  EXPECT_EQ(error_of([&] { ck.release("bgi"); }), path + ": no tensor named 'bgi' (2 tensors); did you mean 'big'?");
  EXPECT_EQ(error_of([&] { ck.release_shard("b"); }), path + ": no tensor named 'b' (2 tensors); did you mean 'a'?");
}

TEST(Safetensors, MissingShardAndMissingTensorInShard) {
  const std::string dir = fresh_dir("st_missing");
  write_file(dir + "/a.safetensors", safetensors_bytes({{"x", "F32", "[1]", f32_bytes({1})}}));
  write_text(dir + "/model.safetensors.index.json",
             R"({"weight_map": {"x": "a.safetensors", "y": "a.safetensors", "z": "b.safetensors"}})");
  std::string msg = error_of([&] { SafetensorsCheckpoint::open(dir); });
  EXPECT_NE(msg.find("tensor 'y' is listed for this shard in the index but is not in the file"), std::string::npos) << msg;
  write_text(dir + "/model.safetensors.index.json", R"({"weight_map": {"x": "a.safetensors", "z": "b.safetensors"}})");
  msg = error_of([&] { SafetensorsCheckpoint::open(dir); });
  EXPECT_NE(msg.find("shard '" + dir + "/b.safetensors' (holding tensor 'z' and 0 more) is missing"), std::string::npos) << msg;
  EXPECT_EQ(msg.rfind("while opening safetensors checkpoint " + dir, 0), 0u) << msg;
  write_text(dir + "/model.safetensors.index.json", R"({"weight_map": [1, 2]})");
  msg = error_of([&] { SafetensorsCheckpoint::open(dir); });
  EXPECT_NE(msg.find("expected an object with a \"weight_map\" object"), std::string::npos) << msg;
}

struct HostileCase {
  const char* name;
  std::vector<uint8_t> bytes;
  const char* expected;  // substring of the message
};

TEST(Safetensors, HostileHeadersGiveClearErrors) {
  const auto four = f32_bytes({1});
  std::vector<uint8_t> past_eof = safetensors_raw("{}", {});
  past_eof[0] = 100;  // header claims 100 bytes, file has 2
  const std::vector<HostileCase> cases = {
      {"short", {1, 2, 3}, "3 bytes is too short for a safetensors file"},
      {"past_eof", past_eof, "header length 100 runs past the end of the file (10 bytes)"},
      {"bad_json", safetensors_raw("{\"a\": ", four), "header is not valid JSON"},
      {"not_object", safetensors_raw("[1]", four), "header must be a JSON object, got array"},
      {"oob", safetensors_raw(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", four),
       "tensor 't': data_offsets [0,8] run past the data buffer (4 bytes)"},
      {"mismatch", safetensors_raw(R"({"t":{"dtype":"F16","shape":[3],"data_offsets":[0,4]}})", four),
       "tensor 't': data_offsets [0,4] hold 4 bytes but dtype F16 x shape [3] needs 3 x 2 bytes"},
      {"reversed", safetensors_raw(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", four),
       "tensor 't': data_offsets [4,0] must be non-negative integers with begin <= end"},
      {"dtype", safetensors_raw(R"({"t":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})", four),
       "tensor 't': unknown dtype 'Q4' (known: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2)"},
      {"neg_shape", safetensors_raw(R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four),
       "tensor 't': shape entries must be non-negative integers, got -1"},
      {"no_dtype", safetensors_raw(R"({"t":{"shape":[1],"data_offsets":[0,4]}})", four),
       "tensor 't': missing or non-string 'dtype'"},
      {"overlap",
       safetensors_raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                       f32_bytes({1, 2})),
       "tensors 'a' [0, 8) and 'b' [4, 8) overlap"},
      {"huge_shape", safetensors_raw(R"({"t":{"dtype":"F32","shape":[4611686018427387904, 4],"data_offsets":[0,4]}})", four),
       "tensor 't': shape [4611686018427387904,4] overflows"},
  };
  for (const auto& c : cases) {
    const std::string path = temp_path(std::string("hostile_") + c.name + ".safetensors");
    write_file(path, c.bytes);
    const std::string msg = error_of([&] { SafetensorsCheckpoint::open(path); });
    EXPECT_NE(msg.find(path + ": "), std::string::npos) << c.name << ": " << msg;
    EXPECT_NE(msg.find(c.expected), std::string::npos) << c.name << ": " << msg;
  }
}

// A shape nested a million levels deep used to parse, then overflow the stack in nlohmann's dump()
// while the "shape entries must be integers" message was formatted; a tensor listed twice kept its
// last entry silently. Both are now header errors, and values quoted in messages are cut short.
TEST(Safetensors, DeepNestingDuplicateNamesAndLongValuesInHeaders) {
  const auto four = f32_bytes({1});
  const size_t depth = 1000000;
  const std::string deep = R"({"t":{"dtype":"F32","shape":)" + std::string(depth, '[') + std::string(depth, ']') +
                           R"(,"data_offsets":[0,4]}})";
  const std::string deep_path = temp_path("hostile_deep.safetensors");
  write_file(deep_path, safetensors_raw(deep, four));
  EXPECT_EQ(error_of([&] { SafetensorsCheckpoint::open(deep_path); }),
            "while opening safetensors checkpoint " + deep_path + "\n  " + deep_path +
                ": header nests JSON deeper than 64 levels");

  const std::string twice = R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  const std::string twice_path = temp_path("hostile_twice.safetensors");
  write_file(twice_path, safetensors_raw(twice, f32_bytes({1, 2})));
  EXPECT_EQ(error_of([&] { SafetensorsCheckpoint::open(twice_path); }),
            "while opening safetensors checkpoint " + twice_path + "\n  " + twice_path +
                ": header has key 't' twice in one JSON object");

  std::string long_shape = "[";
  for (int i = 0; i < 10000; ++i) long_shape += "[1],";
  long_shape += "1]";
  const std::string long_path = temp_path("hostile_long.safetensors");
  write_file(long_path, safetensors_raw(R"({"t":{"dtype":"F32","shape":)" + long_shape + R"(,"data_offsets":[0,4]}})", four));
  const std::string msg = error_of([&] { SafetensorsCheckpoint::open(long_path); });
  EXPECT_NE(msg.find("tensor 't': shape entries must be non-negative integers, got [1]"), std::string::npos) << msg;
  EXPECT_LT(msg.size(), 400u) << msg;
}

}  // namespace
}  // namespace abq::io

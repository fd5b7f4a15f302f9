// GGUF reader tests. Expected values: the files are built in the test by gguf_writer.h from the
// values asserted here; the vocab-only files under /work/shared/data are llama.cpp's published
// test vocabularies, whose token counts are the models' documented vocabulary sizes (LLaMA 32000,
// GPT-2 50257).
#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "tests/unit/io/gguf_writer.h"

namespace abq::io {
namespace {

using namespace abq::io::testing;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

GgufFile write_and_open(GgufWriter& w, const std::string& name) {
  const std::string path = temp_path(name);
  write_file(path, w.build());
  return GgufFile::open(path);
}

TEST(Gguf, ReadsEveryMetadataType) {
  GgufWriter w(3);
  Bytes b;
  w.kv_raw("u8", kU8, {200});
  w.kv_raw("i8", kI8, {0xFE});  // -2
  b = {}; b.u16(65535); w.kv_raw("u16", kU16, b.b);
  b = {}; b.u16(0x8000); w.kv_raw("i16", kI16, b.b);  // -32768
  w.kv_u32("u32", 4000000000u);
  w.kv_i32("i32", -7);
  b = {}; b.u64(1ull << 40); w.kv_raw("u64", kU64, b.b);
  b = {}; b.u64(static_cast<uint64_t>(-5)); w.kv_raw("i64", kI64, b.b);
  w.kv_f32("f32", 0.25f);
  b = {}; b.f64(-1.5e-300); w.kv_raw("f64", kF64, b.b);
  w.kv_bool("yes", true);
  w.kv_str("name", "tiny \xC3\xA9");
  w.kv_str_array("words", {"a", "", "bc"});
  w.kv_i32_array("ids", {3, -1, 7});
  w.kv_f32_array("scores", {0.5f, -2.0f});
  // array<array<u16>>: [[1, 2], [3]]
  b = {}; b.u32(kArr); b.u64(2);
  b.u32(kU16); b.u64(2); b.u16(1); b.u16(2);
  b.u32(kU16); b.u64(1); b.u16(3);
  w.kv_raw("nested", kArr, b.b);
  b = {}; b.u32(kU64); b.u64(1); b.u64(~0ull); w.kv_raw("big_u64s", kArr, b.b);
  b = {}; b.u64(~0ull); w.kv_raw("big_u64", kU64, b.b);
  const GgufFile g = write_and_open(w, "all_types.gguf");

  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.keys().size(), 18u);
  EXPECT_EQ(g.keys().front(), "u8");
  EXPECT_EQ(g.get_int("u8"), 200);
  EXPECT_EQ(g.get_int("i8"), -2);
  EXPECT_EQ(g.get_int("u16"), 65535);
  EXPECT_EQ(g.get_int("i16"), -32768);
  EXPECT_EQ(g.get_int("u32"), 4000000000ll);
  EXPECT_EQ(g.get_int("i32"), -7);
  EXPECT_EQ(g.get_int("u64"), 1ll << 40);
  EXPECT_EQ(g.get_int("i64"), -5);
  EXPECT_EQ(g.get_float("f32"), 0.25);
  EXPECT_EQ(g.get_float("f64"), -1.5e-300);
  EXPECT_EQ(g.get_float("i32"), -7.0);
  EXPECT_TRUE(g.get_bool("yes"));
  EXPECT_EQ(g.get_string("name"), "tiny \xC3\xA9");
  EXPECT_EQ(g.get_string_array("words"), (std::vector<std::string>{"a", "", "bc"}));
  EXPECT_EQ(g.get_int_array("ids"), (std::vector<int64_t>{3, -1, 7}));
  EXPECT_EQ(g.get_float_array("scores"), (std::vector<double>{0.5, -2.0}));
  EXPECT_EQ(g.get_float_array("ids"), (std::vector<double>{3, -1, 7}));
  const GgufValue& nested = g.value("nested");
  ASSERT_EQ(nested.elem_type, GgufValueType::ARRAY);
  ASSERT_EQ(nested.arrays.size(), 2u);
  EXPECT_EQ(nested.arrays[0].ints, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(nested.arrays[1].ints, (std::vector<int64_t>{3}));
  EXPECT_TRUE(g.tensors().empty());

  EXPECT_NE(error_of([&] { g.get_int("big_u64"); }).find("above the int64 range"), std::string::npos);
  EXPECT_NE(error_of([&] { g.get_int_array("big_u64s"); }).find("above the int64 range"), std::string::npos);
}

TEST(Gguf, WrongTypeAndMissingKeyErrorsNameKeyTypesAndFile) {
  GgufWriter w(2);
  w.kv_str("general.architecture", "llama");
  w.kv_u32("llama.block_count", 2);
  w.kv_i32_array("ids", {1});
  const GgufFile g = write_and_open(w, "errors.gguf");
  EXPECT_EQ(g.version(), 2u);
  const std::string path = temp_path("errors.gguf");
  EXPECT_EQ(error_of([&] { g.get_int("general.architecture"); }),
            path + ": metadata 'general.architecture' has type string, expected an integer");
  EXPECT_EQ(error_of([&] { g.get_string("llama.block_count"); }),
            path + ": metadata 'llama.block_count' has type uint32, expected string");
  EXPECT_EQ(error_of([&] { g.get_string_array("ids"); }),
            path + ": metadata 'ids' has type array<int32>, expected array<string>");
  EXPECT_EQ(error_of([&] { g.get_bool("ids"); }), path + ": metadata 'ids' has type array<int32>, expected bool");
  EXPECT_EQ(error_of([&] { g.get_int("llama.block_cont"); }),
            path + ": metadata key 'llama.block_cont' not found; did you mean 'llama.block_count'?");
  EXPECT_FALSE(g.has("nope"));
}

TEST(Gguf, TensorTableOffsetsAndAlignment) {
  GgufWriter w(3);
  w.kv_u32("general.alignment", 64);
  w.alignment(64);
  w.tensor("a", {3}, 0, f32_bytes({1.f, 2.f, 3.f}));
  w.tensor("b", {2, 2}, 1, u16_bytes({0x3C00, 0xC000, 0x3800, 0x0000}));  // 1, -2, 0.5, 0
  const GgufFile g = write_and_open(w, "tensors.gguf");
  EXPECT_EQ(g.alignment(), 64u);
  EXPECT_EQ(g.data_offset() % 64, 0u);
  ASSERT_EQ(g.tensors().size(), 2u);
  const GgufTensorInfo& a = g.tensor("a");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(a.type, GgmlType::F32);
  EXPECT_EQ(a.size_bytes, 12u);
  EXPECT_EQ(a.offset, g.data_offset());
  const GgufTensorInfo& b = g.tensor("b");
  EXPECT_EQ(b.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(b.offset, g.data_offset() + 64);  // 12 bytes of "a" padded to 64
  EXPECT_EQ(b.size_bytes, 8u);
  EXPECT_EQ(g.dequantize("a"), (std::vector<float>{1.f, 2.f, 3.f}));
  EXPECT_EQ(g.dequantize("b"), (std::vector<float>{1.f, -2.f, 0.5f, 0.f}));
  EXPECT_NE(error_of([&] { g.tensor("c"); }).find("no tensor named 'c'"), std::string::npos);
}

TEST(Gguf, RefusesVersion1AndBadMagic) {
  GgufWriter w1(1);
  write_file(temp_path("v1.gguf"), w1.build());
  EXPECT_EQ(error_of([] { GgufFile::open(temp_path("v1.gguf")); }),
            temp_path("v1.gguf") + ": unsupported GGUF version 1 (this reader supports versions 2 and 3); "
                                   "re-convert the model with a current llama.cpp");
  write_file(temp_path("magic.gguf"), {'G', 'G', 'M', 'L', 3, 0, 0, 0});
  EXPECT_NE(error_of([] { GgufFile::open(temp_path("magic.gguf")); }).find("not a GGUF file"), std::string::npos);
  EXPECT_NE(error_of([] { GgufFile::open(temp_path("does_not_exist.gguf")); }).find("cannot open"),
            std::string::npos);
}

TEST(Gguf, HostileFilesGiveErrorsNamingTheTensorOrKey) {
  {  // tensor data past the end of the file
    GgufWriter w;
    w.tensor("blk.0.attn_q.weight", {4}, 0, f32_bytes({1, 2, 3, 4}));
    std::vector<uint8_t> bytes = w.build();
    bytes.resize(bytes.size() - 20);  // 16 data bytes + 16 bytes of padding; cut into the data
    write_file(temp_path("trunc.gguf"), bytes);
    const std::string msg = error_of([] { GgufFile::open(temp_path("trunc.gguf")); });
    EXPECT_NE(msg.find("tensor 'blk.0.attn_q.weight' data [0, +16) lies past the end"), std::string::npos) << msg;
  }
  {  // string length larger than the file
    GgufWriter w;
    w.kv_str("general.name", "x");
    std::vector<uint8_t> bytes = w.build();
    bytes.resize(static_cast<size_t>(std::find(bytes.begin(), bytes.end(), 'x') - bytes.begin()));
    write_file(temp_path("trunc_kv.gguf"), bytes);
    const std::string msg = error_of([] { GgufFile::open(temp_path("trunc_kv.gguf")); });
    EXPECT_NE(msg.find("truncated while reading metadata 'general.name'"), std::string::npos) << msg;
  }
  {  // row length not a multiple of the Q8_0 block
    GgufWriter w;
    w.tensor("w", {16}, 8, std::vector<uint8_t>(34));
    write_file(temp_path("rowlen.gguf"), w.build());
    const std::string msg = error_of([] { GgufFile::open(temp_path("rowlen.gguf")); });
    EXPECT_NE(msg.find("tensor 'w' of type Q8_0 has row length 16, not a multiple of the block size 32"),
              std::string::npos) << msg;
  }
  {  // duplicate key, unknown ggml type, non-power-of-two alignment, huge array count
    GgufWriter w;
    w.kv_u32("k", 1);
    w.kv_u32("k", 2);
    write_file(temp_path("dup.gguf"), w.build());
    EXPECT_NE(error_of([] { GgufFile::open(temp_path("dup.gguf")); }).find("duplicate metadata key 'k'"),
              std::string::npos);
    GgufWriter t;
    t.tensor("t", {1}, 99, {0, 0, 0, 0});
    write_file(temp_path("type.gguf"), t.build());
    EXPECT_NE(error_of([] { GgufFile::open(temp_path("type.gguf")); }).find("tensor 't' has unknown ggml type id 99"),
              std::string::npos);
    GgufWriter a;
    a.kv_u32("general.alignment", 48);
    write_file(temp_path("align.gguf"), a.build());
    EXPECT_NE(error_of([] { GgufFile::open(temp_path("align.gguf")); }).find("must be a power of two, got 48"),
              std::string::npos);
    GgufWriter h;
    Bytes b; b.u32(kU32); b.u64(1ull << 60);
    h.kv_raw("huge", kArr, b.b);
    write_file(temp_path("huge.gguf"), h.build());
    EXPECT_NE(error_of([] { GgufFile::open(temp_path("huge.gguf")); }).find("metadata 'huge': array of 1152921504606846976 uint32"),
              std::string::npos);
  }
  {  // misaligned tensor offset: patch the offset field of the only tensor
    GgufWriter w;
    w.tensor("t", {1}, 0, f32_bytes({1}));
    std::vector<uint8_t> bytes = w.build();
    const size_t offset_field = w.length_fields().back().first;
    bytes[offset_field] = 4;
    write_file(temp_path("misaligned.gguf"), bytes);
    EXPECT_NE(error_of([] { GgufFile::open(temp_path("misaligned.gguf")); })
                  .find("tensor 't' offset 4 is not a multiple of the alignment 32"),
              std::string::npos);
  }
}

// Position of the type field of tensor `name` in a built file: after its name, n_dims and dims.
size_t tensor_type_field(const std::vector<uint8_t>& bytes, const std::string& name, int n_dims) {
  const auto encoded = GgufWriter::str(name);
  const auto it = std::search(bytes.begin(), bytes.end(), encoded.begin(), encoded.end());
  return static_cast<size_t>(it - bytes.begin()) + encoded.size() + 4 + 8 * size_t(n_dims);
}

// Unlike safetensors' table, GGUF's lets two tensors claim the same bytes; an edited type id
// (Q8_0 read as F32) then decodes the neighbour's bytes as part of the norm, without an error.
TEST(Gguf, OverlappingTensorsAreRefusedNamingBoth) {
  GgufWriter w;
  w.tensor("blk.0.attn_norm.weight", {32}, 8, std::vector<uint8_t>(34, 1));  // Q8_0: 34 bytes, padded to 64
  w.tensor("blk.0.ffn_norm.weight", {32}, 0, f32_bytes(std::vector<float>(32, 1.0f)));
  std::vector<uint8_t> bytes = w.build();
  ASSERT_NO_THROW(write_and_open(w, "no_overlap.gguf"));
  bytes[tensor_type_field(bytes, "blk.0.attn_norm.weight", 1)] = 0;  // F32: 128 bytes from offset 0
  const std::string path = temp_path("overlap_type.gguf");
  write_file(path, bytes);
  EXPECT_EQ(error_of([&] { GgufFile::open(path); }),
            path + ": tensors 'blk.0.attn_norm.weight' [0, 128) and 'blk.0.ffn_norm.weight' [64, 192) overlap in the "
                   "data section; the tensor table is corrupt");

  GgufWriter same;  // two tensors at one offset
  same.tensor("a", {8}, 0, f32_bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  same.tensor("b", {8}, 0, f32_bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  bytes = same.build();
  const size_t b_offset = tensor_type_field(bytes, "b", 1) + 4;
  for (int k = 0; k < 8; ++k) bytes[b_offset + size_t(k)] = 0;
  const std::string path2 = temp_path("overlap_offset.gguf");
  write_file(path2, bytes);
  EXPECT_EQ(error_of([&] { GgufFile::open(path2); }),
            path2 + ": tensors 'a' [0, 32) and 'b' [0, 32) overlap in the data section; the tensor table is corrupt");
}

TEST(Gguf, UndecodableTypeIsRefusedByName) {
  GgufWriter w;
  w.tensor("q2", {256}, 10, std::vector<uint8_t>(84));  // Q2_K: known size, no decoder
  const GgufFile g = write_and_open(w, "q2k.gguf");
  EXPECT_EQ(g.tensor("q2").size_bytes, 84u);
  EXPECT_NE(error_of([&] { g.dequantize("q2"); }).find("tensor 'q2' has type Q2_K, which this reader cannot dequantize"),
            std::string::npos);
}

// ---- the real vocab-only files llama.cpp ships for its tokenizer tests
const std::string kVocabDir = "/work/shared/data/tokenizers/llamacpp-vocab/";

TEST(GgufVocabFiles, LlamaSpm) {
  const std::string path = kVocabDir + "ggml-vocab-llama-spm.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not present";
  const GgufFile g = GgufFile::open(path);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "llama");
  const auto tokens = g.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 32000u);
  EXPECT_EQ(tokens[0], "<unk>");
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[2], "</s>");
  EXPECT_EQ(g.get_float_array("tokenizer.ggml.scores").size(), 32000u);
  EXPECT_EQ(g.get_int_array("tokenizer.ggml.token_type").size(), 32000u);
  EXPECT_EQ(g.get_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(g.get_int("tokenizer.ggml.eos_token_id"), 2);
  EXPECT_TRUE(g.tensors().empty());
}

TEST(GgufVocabFiles, Gpt2AndEveryFileParses) {
  const std::string path = kVocabDir + "ggml-vocab-gpt-2.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not present";
  const GgufFile g = GgufFile::open(path);
  EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), 50257u);
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.merges").size(), 50000u);  // GPT-2 merges.txt has 50000 rules
  for (const auto& entry : std::filesystem::directory_iterator(kVocabDir)) {
    if (entry.path().extension() != ".gguf") continue;
    const GgufFile f = GgufFile::open(entry.path().string());
    EXPECT_GT(f.get_string_array("tokenizer.ggml.tokens").size(), 1000u) << entry.path();
  }
}

// ---- SmolLM2-135M-Instruct Q4_1 (downloaded separately; see framework/io/README.md)
TEST(GgufSmolLM2, ParsesAndDequantizesEveryTensor) {
  const char* home = std::getenv("HOME");
  const std::string path = std::string(home ? home : "") + "/.cache/abq/models/SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not present";
  const GgufFile g = GgufFile::open(path);
  EXPECT_EQ(g.get_string("general.architecture"), "llama");
  EXPECT_EQ(g.get_int("llama.embedding_length"), 576);
  EXPECT_EQ(g.get_int("llama.block_count"), 30);
  EXPECT_EQ(g.tensors().size(), 272u);  // 30 blocks x 9 + token_embd + output_norm (tied lm_head)
  std::map<std::string, int> types;
  for (const auto& t : g.tensors()) {
    ++types[ggml_type_name(t.type)];
    const std::vector<float> v = g.dequantize(t.name);
    ASSERT_EQ(static_cast<int64_t>(v.size()), t.numel()) << t.name;
    double sum_sq = 0;
    for (float x : v) {
      ASSERT_TRUE(std::isfinite(x)) << t.name;
      sum_sq += double(x) * x;
    }
    EXPECT_GT(sum_sq, 0.0) << t.name;  // a real weight is never all zeros
  }
  std::string summary;
  for (const auto& [name, n] : types) summary += name + ":" + std::to_string(n) + " ";
  std::cout << "SmolLM2 tensor types: " << summary << "\n";
  EXPECT_GT(types["Q4_1"], 0);

  // Hyper-parameters as in HuggingFaceTB/SmolLM2-135M-Instruct config.json.
  const model::LlamaConfig c = llama_config_from_gguf(g);
  EXPECT_EQ(c.vocab_size, 49152);
  EXPECT_EQ(c.hidden_size, 576);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.num_layers, 30);
  EXPECT_EQ(c.num_heads, 9);
  EXPECT_EQ(c.num_kv_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rope_theta, 100000.0);
  EXPECT_FLOAT_EQ(static_cast<float>(c.rms_eps), 1e-5f);
  EXPECT_TRUE(c.tie_embeddings);
  for (const auto& t : g.tensors()) EXPECT_NO_THROW(hf_tensor_name(t.name)) << t.name;
  EXPECT_EQ(g.tensor("blk.0.attn_k.weight").shape, (std::vector<int64_t>{576, 192}));  // [C, Hkv * D]
}

}  // namespace
}  // namespace abq::io

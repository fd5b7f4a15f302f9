// Seeded mutation fuzzing of the GGUF and safetensors readers. Valid small files are built with
// gguf_writer.h, then corrupted thousands of times (random byte flips, truncations, and
// overwrites of length / count / offset fields with boundary values). Each mutant is opened and
// every key, tensor and dequantization is exercised; the only exception allowed out is abq::Error.
// Under -DABQ_SANITIZE=ON this also proves no out-of-bounds read or UB on any mutant.
// Expected outcome: by construction (the property under test), not from a reference.
// ABQ_FUZZ_ITERS (default 5000) sets the mutants per strategy and format; ABQ_FUZZ_SEED the seed.
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"
#include "framework/io/safetensors.h"
#include "tests/unit/io/gguf_writer.h"

namespace abq::io {
namespace {

using namespace abq::io::testing;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

struct Tally {
  int ran = 0, accepted = 0, rejected = 0;
};

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

std::vector<uint8_t> valid_gguf(std::mt19937_64& rng, std::vector<std::pair<size_t, int>>* fields) {
  GgufWriter w(3);
  w.kv_str("general.architecture", "llama");
  w.kv_u32("general.alignment", 32);
  w.kv_u32("llama.embedding_length", 64);
  w.kv_u32("llama.block_count", 1);
  w.kv_u32("llama.feed_forward_length", 128);
  w.kv_u32("llama.attention.head_count", 4);
  w.kv_u32("llama.attention.head_count_kv", 2);
  w.kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.kv_bool("flag", true);
  w.kv_str_array("tokenizer.ggml.tokens", {"<s>", "</s>", "hello", "world"});
  w.kv_i32_array("tokenizer.ggml.token_type", {3, 3, 1, 1});
  Bytes nested;
  nested.u32(kArr); nested.u64(2);
  nested.u32(kStr); nested.u64(1); nested.raw(GgufWriter::str("x"));
  nested.u32(kF64); nested.u64(1); nested.f64(2.5);
  w.kv_raw("nested", kArr, nested.b);
  // type id, elements per row, bytes per row (one block row each, two rows)
  const struct { const char* name; uint32_t type; uint64_t row; size_t row_bytes; } ts[] = {
      {"token_embd.weight", 0, 8, 32},  {"f16", 1, 8, 16},     {"bf16", 30, 8, 16},
      {"q4_0", 2, 32, 18},              {"q4_1", 3, 32, 20},   {"q5_0", 6, 32, 22},
      {"q5_1", 7, 32, 24},              {"q8_0", 8, 32, 34},   {"q4_k", 12, 256, 144},
      {"q5_k", 13, 256, 176},           {"q6_k", 14, 256, 210}, {"q2_k", 10, 256, 84},
  };
  for (const auto& t : ts) w.tensor(t.name, {t.row, 2}, t.type, random_bytes(rng, 2 * t.row_bytes));
  auto bytes = w.build();
  *fields = w.length_fields();
  return bytes;
}

std::vector<uint8_t> valid_safetensors(std::mt19937_64& rng) {
  return safetensors_bytes({{"a", "F32", "[2, 3]", random_bytes(rng, 24)},
                            {"b", "F16", "[4]", random_bytes(rng, 8)},
                            {"c", "BF16", "[2, 2]", random_bytes(rng, 8)},
                            {"d", "I32", "[1]", random_bytes(rng, 4)}},
                           R"({"format":"pt"})");
}

uint64_t interesting_value(std::mt19937_64& rng, uint64_t file_size) {
  const uint64_t values[] = {0, 1, 2, 4, 7, 8, 31, 32, 33, 255, 256, 0x7FFFFFFFull, 0x80000000ull,
                             0xFFFFFFFFull, 1ull << 32, std::numeric_limits<int64_t>::max(), 1ull << 63,
                             ~0ull, file_size, file_size - 1, file_size + 1, file_size / 2};
  const size_t n = sizeof(values) / sizeof(values[0]);
  const size_t k = rng() % (n + 1);
  return k < n ? values[k] : rng() % (2 * file_size + 2);
}

bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
uint64_t load_header_length(const std::vector<uint8_t>& b) {
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = n << 8 | b[static_cast<size_t>(k)];
  return n;
}

void put_le(std::vector<uint8_t>& b, size_t pos, int width, uint64_t v) {
  for (int k = 0; k < width && pos + k < b.size(); ++k) b[pos + k] = static_cast<uint8_t>(v >> (8 * k));
}

// Opens one mutant and touches everything it claims to hold. Only abq::Error may escape.
void exercise_gguf(const std::string& path) {
  const GgufFile g = GgufFile::open(path);
  for (const auto& key : g.keys()) {
    const std::vector<std::function<void()>> getters = {
        [&] { g.get_int(key); },          [&] { g.get_float(key); },       [&] { g.get_string(key); },
        [&] { g.get_bool(key); },         [&] { g.get_string_array(key); }, [&] { g.get_int_array(key); },
        [&] { g.get_float_array(key); }};
    for (const auto& get : getters) {
      try {
        get();
      } catch (const Error&) {
      }
    }
  }
  for (const auto& t : g.tensors()) {
    try {
      const auto v = g.dequantize(t.name);
      ASSERT_EQ(static_cast<int64_t>(v.size()), t.numel());
    } catch (const Error&) {
    }
  }
  try {
    llama_config_from_gguf(g);
  } catch (const Error&) {
  }
}

void exercise_safetensors(const std::string& path) {
  const SafetensorsCheckpoint ck = SafetensorsCheckpoint::open(path);
  for (const auto& name : ck.tensor_names()) {
    const TensorView v = ck.view(name);
    try {
      const auto f = ck.read_f32(name);
      ASSERT_EQ(static_cast<int64_t>(f.size()), v.numel());
    } catch (const Error&) {
    }
  }
}

void run_one(const std::string& path, const std::vector<uint8_t>& bytes, const std::function<void(const std::string&)>& fn,
             Tally& tally, const std::string& label) {
  // A fresh file each time: rewriting one in place makes ext4 flush it on every close.
  std::filesystem::remove(path);
  write_file(path, bytes);
  ++tally.ran;
  try {
    fn(path);
    ++tally.accepted;
  } catch (const Error&) {
    ++tally.rejected;
  } catch (const std::exception& e) {
    ADD_FAILURE() << label << ": non-abq exception escaped: " << e.what();
  }
}

// Runs the three mutation strategies on `valid`; `fields` lists (position, width) of length fields.
// `corrupt(bytes, field, value)` writes a boundary value into one field.
using Corrupt = std::function<void(std::vector<uint8_t>&, const std::pair<size_t, int>&, uint64_t)>;

Tally fuzz(const std::string& format, const std::vector<uint8_t>& valid,
           const std::vector<std::pair<size_t, int>>& fields, const Corrupt& corrupt,
           const std::function<void(const std::string&)>& fn, uint64_t seed, int iters) {
  std::mt19937_64 rng(seed);
  const std::string path = temp_path("fuzz_" + format);
  Tally tally;
  for (int i = 0; i < iters; ++i) {  // 1..8 random byte changes (bit flips or random values)
    std::vector<uint8_t> b = valid;
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < n; ++k) {
      const size_t pos = rng() % b.size();
      b[pos] = (rng() % 2) ? static_cast<uint8_t>(b[pos] ^ (1u << (rng() % 8))) : static_cast<uint8_t>(rng());
    }
    run_one(path, b, fn, tally, format + " flip #" + std::to_string(i));
  }
  for (int i = 0; i < iters; ++i) {  // truncation at every kind of boundary
    std::vector<uint8_t> b = valid;
    b.resize(rng() % b.size());
    run_one(path, b, fn, tally, format + " truncation #" + std::to_string(i));
  }
  for (int i = 0; i < iters; ++i) {  // a length / count / offset field set to a boundary value
    std::vector<uint8_t> b = valid;
    const auto& f = fields[rng() % fields.size()];
    corrupt(b, f, interesting_value(rng, b.size()));
    if (rng() % 4 == 0) b.resize(b.size() - rng() % 64);
    run_one(path, b, fn, tally, format + " field #" + std::to_string(i));
  }
  std::filesystem::remove(path);
  return tally;
}

TEST(Fuzz, GgufAndSafetensorsMutantsOnlyThrowAbqError) {
  const int iters = env_int("ABQ_FUZZ_ITERS", 5000);
  const uint64_t seed = static_cast<uint64_t>(env_int("ABQ_FUZZ_SEED", 20241122));
  std::mt19937_64 rng(seed);

  std::vector<std::pair<size_t, int>> gguf_fields;
  const std::vector<uint8_t> gguf = valid_gguf(rng, &gguf_fields);
  write_file(temp_path("fuzz_valid.gguf"), gguf);
  ASSERT_NO_THROW(exercise_gguf(temp_path("fuzz_valid.gguf")));  // the seed file itself is valid
  const Corrupt binary_field = [](std::vector<uint8_t>& b, const std::pair<size_t, int>& f, uint64_t v) {
    put_le(b, f.first, f.second, v);
  };
  const Tally tg = fuzz("gguf", gguf, gguf_fields, binary_field, exercise_gguf, seed + 1, iters);

  const std::vector<uint8_t> st = valid_safetensors(rng);
  write_file(temp_path("fuzz_valid.safetensors"), st);
  ASSERT_NO_THROW(exercise_safetensors(temp_path("fuzz_valid.safetensors")));
  // Safetensors length fields: the 8-byte header length (binary), and every number inside the
  // JSON header (shape entries, data_offsets), replaced by the boundary value in decimal with the
  // header length fixed up, so the JSON stays well-formed and the bad number reaches the checks.
  std::vector<std::pair<size_t, int>> st_fields = {{0, 8}};
  const size_t header_end = 8 + static_cast<size_t>(load_header_length(st));
  for (size_t p = 9; p < header_end; ++p) {
    if (is_digit(st[p]) && !is_digit(st[p - 1])) st_fields.push_back({p, 0});
  }
  const Corrupt st_field = [](std::vector<uint8_t>& b, const std::pair<size_t, int>& f, uint64_t v) {
    if (f.second == 8) return put_le(b, 0, 8, v);
    size_t end = f.first;
    while (end < b.size() && is_digit(b[end])) ++end;
    const std::string text = std::to_string(v);
    b.erase(b.begin() + static_cast<std::ptrdiff_t>(f.first), b.begin() + static_cast<std::ptrdiff_t>(end));
    b.insert(b.begin() + static_cast<std::ptrdiff_t>(f.first), text.begin(), text.end());
    put_le(b, 0, 8, load_header_length(b) + text.size() - (end - f.first));
  };
  const Tally ts = fuzz("safetensors", st, st_fields, st_field, exercise_safetensors, seed + 2, iters);

  std::cout << "fuzz: gguf " << tg.ran << " mutants (" << tg.accepted << " accepted, " << tg.rejected
            << " rejected with abq::Error); safetensors " << ts.ran << " mutants (" << ts.accepted
            << " accepted, " << ts.rejected << " rejected with abq::Error); seed " << seed << "\n";
  EXPECT_EQ(tg.ran, 3 * iters);
  EXPECT_EQ(ts.ran, 3 * iters);
  EXPECT_GT(tg.rejected, iters);  // the mutations really do reach the error paths
  EXPECT_GT(ts.rejected, iters);
}

}  // namespace
}  // namespace abq::io

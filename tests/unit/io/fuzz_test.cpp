// Seeded mutation fuzzing of the GGUF, safetensors and HF config.json readers. Valid small files
// are built with gguf_writer.h, then corrupted many times: random byte flips, truncations,
// overwrites of length / count / offset fields (and, in JSON, of numbers) with boundary values,
// and for JSON structural edits (nesting up to 100,000 deep, a key repeated). Each mutant is opened
// and every key, tensor, dequantization and the model config is exercised; the only exception
// allowed out is abq::Error, and no mutant may take longer than kHangSeconds (a hang).
// Under -DABQ_SANITIZE=ON this also proves no out-of-bounds read or UB on any mutant.
// Expected outcome: by construction (the property under test), not from a reference.
// ABQ_FUZZ_ITERS (default 100: a few hundred mutants per format, CI-sized) sets the mutants per
// strategy and format; ABQ_FUZZ_SEED the seed. A large run: ABQ_FUZZ_ITERS=3334 (at least 10,000
// per format: GGUF has three strategies, the JSON formats four).
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"
#include "framework/io/hf_config.h"
#include "framework/io/safetensors.h"
#include "tests/unit/io/gguf_writer.h"

namespace abq::io {
namespace {

using namespace abq::io::testing;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

constexpr double kHangSeconds = 5.0;  // one small mutant taking longer than this is a hang

struct Tally {
  int ran = 0, accepted = 0, rejected = 0;
  double slowest_seconds = 0;
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
  w.kv_u32("llama.context_length", 128);
  w.kv_u32("llama.rope.dimension_count", 16);
  w.kv_f32("llama.rope.freq_base", 10000.0f);
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
      {"token_embd.weight", 0, 8, 32},  {"blk.0.attn_norm.weight", 1, 8, 16},     {"bf16", 30, 8, 16},
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

// A config.json with every key the reader knows, llama3 rope scaling included.
std::vector<uint8_t> valid_hf_config() {
  const std::string text = R"({"model_type": "llama", "vocab_size": 258, "hidden_size": 64,
  "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
  "head_dim": 16, "max_position_embeddings": 2048, "rope_theta": 500000.0, "rms_norm_eps": 1e-05,
  "tie_word_embeddings": true, "attention_bias": false, "bos_token_id": 1, "eos_token_id": [2, 3],
  "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192}})";
  return std::vector<uint8_t>(text.begin(), text.end());
}

void exercise_hf_config(const std::string& path) { llama_config_from_hf(path); }

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
  const auto start = std::chrono::steady_clock::now();
  try {
    fn(path);
    ++tally.accepted;
  } catch (const Error&) {
    ++tally.rejected;
  } catch (const std::exception& e) {
    ADD_FAILURE() << label << ": non-abq exception escaped: " << e.what();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  tally.slowest_seconds = std::max(tally.slowest_seconds, seconds);
  EXPECT_LT(seconds, kHangSeconds) << label << " took " << seconds << " s";
}

// Runs the three mutation strategies on `valid`; `fields` lists (position, width) of length fields.
// `corrupt(bytes, field, value)` writes a boundary value into one field.
using Corrupt = std::function<void(std::vector<uint8_t>&, const std::pair<size_t, int>&, uint64_t)>;

// A structural edit of a JSON text (deep nesting, a repeated key), for the fourth strategy.
using Restructure = std::function<void(std::vector<uint8_t>&, std::mt19937_64&)>;

Tally fuzz(const std::string& format, const std::vector<uint8_t>& valid,
           const std::vector<std::pair<size_t, int>>& fields, const Corrupt& corrupt,
           const std::function<void(const std::string&)>& fn, uint64_t seed, int iters,
           const Restructure& restructure = nullptr) {
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
  for (int i = 0; restructure && i < iters; ++i) {  // nesting and repeated keys
    std::vector<uint8_t> b = valid;
    restructure(b, rng);
    run_one(path, b, fn, tally, format + " structure #" + std::to_string(i));
  }
  std::filesystem::remove(path);
  return tally;
}

// Replaces the number starting at `pos` of a JSON text by `text`; returns the change in length.
std::ptrdiff_t replace_number(std::vector<uint8_t>& b, size_t pos, const std::string& text) {
  size_t end = pos;
  while (end < b.size() && (is_digit(b[end]) || b[end] == '.' || b[end] == 'e' || b[end] == '-' || b[end] == '+')) ++end;
  b.erase(b.begin() + static_cast<std::ptrdiff_t>(pos), b.begin() + static_cast<std::ptrdiff_t>(end));
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(pos), text.begin(), text.end());
  return static_cast<std::ptrdiff_t>(text.size()) - static_cast<std::ptrdiff_t>(end - pos);
}

// A boundary value as JSON: integers at the edges of every width, and the non-integers a number
// field may meet (negative, fractional, huge, tiny, other types).
std::string interesting_json(std::mt19937_64& rng, uint64_t file_size) {
  static const char* const others[] = {"-1", "0.5", "1e308", "1e-30", "-0", "1.5", "true", "null", "\"x\"", "[]", "{}",
                                       "18446744073709551616", "-9223372036854775808"};
  const size_t n = sizeof(others) / sizeof(others[0]);
  if (rng() % 3 == 0) return others[rng() % n];
  return std::to_string(interesting_value(rng, file_size));
}

// Positions where a number starts inside [begin, end) of a JSON text.
std::vector<std::pair<size_t, int>> number_fields(const std::vector<uint8_t>& b, size_t begin, size_t end) {
  std::vector<std::pair<size_t, int>> out;
  for (size_t p = std::max<size_t>(begin, 1); p < end; ++p)
    if (is_digit(b[p]) && !is_digit(b[p - 1]) && b[p - 1] != '.' && b[p - 1] != 'e' && b[p - 1] != '-') out.push_back({p, 0});
  return out;
}

// Inside the JSON object at [open, close] (open at '{'): either a value nested `depth` deep
// ("deep": [[[ ... ]]]) or the first member repeated. Returns the change in length.
std::ptrdiff_t restructure_json(std::vector<uint8_t>& b, size_t open, std::mt19937_64& rng) {
  static const size_t depths[] = {2, 63, 64, 65, 1000, 100000};
  std::string insert;
  if (rng() % 2 == 0) {
    const size_t depth = depths[rng() % (sizeof(depths) / sizeof(depths[0]))];
    insert = "\"deep\": " + std::string(depth, '[') + std::string(depth, ']') + ", ";
  } else {  // the first member, up to its top-level comma, once more
    size_t p = open + 1, nesting = 0;
    bool in_string = false;
    for (; p < b.size(); ++p) {
      const char c = static_cast<char>(b[p]);
      if (in_string) {
        if (c == '\\') ++p;
        else if (c == '"') in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++nesting;
      } else if (c == '}' || c == ']') {
        if (nesting == 0) break;
        --nesting;
      } else if (c == ',' && nesting == 0) {
        break;
      }
    }
    insert.assign(b.begin() + static_cast<std::ptrdiff_t>(open + 1), b.begin() + static_cast<std::ptrdiff_t>(p));
    insert += ", ";
  }
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(open + 1), insert.begin(), insert.end());
  return static_cast<std::ptrdiff_t>(insert.size());
}

int fuzz_iters() { return env_int("ABQ_FUZZ_ITERS", 100); }
uint64_t fuzz_seed() { return static_cast<uint64_t>(env_int("ABQ_FUZZ_SEED", 20241122)); }

void report(const std::string& format, const Tally& t, int strategies, int iters) {
  std::cout << "fuzz: " << format << " " << t.ran << " mutants (" << t.accepted << " accepted, " << t.rejected
            << " rejected with abq::Error; slowest " << t.slowest_seconds << " s); seed " << fuzz_seed() << "\n";
  EXPECT_EQ(t.ran, strategies * iters);
  EXPECT_GT(t.rejected, iters);  // the mutations really do reach the error paths
  EXPECT_GT(t.accepted, 0);      // and some stay valid, so the readers' success paths run too
}

TEST(Fuzz, GgufMutantsOnlyThrowAbqError) {
  const int iters = fuzz_iters();
  std::mt19937_64 rng(fuzz_seed());
  std::vector<std::pair<size_t, int>> fields;
  const std::vector<uint8_t> gguf = valid_gguf(rng, &fields);
  write_file(temp_path("fuzz_valid.gguf"), gguf);
  ASSERT_NO_THROW(llama_config_from_gguf(GgufFile::open(temp_path("fuzz_valid.gguf"))));  // the seed is valid
  const Corrupt binary_field = [](std::vector<uint8_t>& b, const std::pair<size_t, int>& f, uint64_t v) {
    put_le(b, f.first, f.second, v);
  };
  report("gguf", fuzz("gguf", gguf, fields, binary_field, exercise_gguf, fuzz_seed() + 1, iters), 3, iters);
}

TEST(Fuzz, SafetensorsMutantsOnlyThrowAbqError) {
  const int iters = fuzz_iters();
  std::mt19937_64 rng(fuzz_seed());
  const std::vector<uint8_t> st = valid_safetensors(rng);
  write_file(temp_path("fuzz_valid.safetensors"), st);
  ASSERT_NO_THROW(exercise_safetensors(temp_path("fuzz_valid.safetensors")));
  // Length fields: the 8-byte header length (binary), and every number inside the JSON header
  // (shape entries, data_offsets), replaced by the boundary value in decimal with the header
  // length fixed up, so the JSON stays well-formed and the bad number reaches the checks.
  std::vector<std::pair<size_t, int>> fields = {{0, 8}};
  const auto numbers = number_fields(st, 9, 8 + static_cast<size_t>(load_header_length(st)));
  fields.insert(fields.end(), numbers.begin(), numbers.end());
  std::mt19937_64 values(fuzz_seed() + 3);
  const Corrupt field = [&](std::vector<uint8_t>& b, const std::pair<size_t, int>& f, uint64_t v) {
    if (f.second == 8) return put_le(b, 0, 8, v);
    const std::string text = values() % 4 == 0 ? interesting_json(values, b.size()) : std::to_string(v);
    put_le(b, 0, 8, static_cast<uint64_t>(static_cast<std::ptrdiff_t>(load_header_length(b)) + replace_number(b, f.first, text)));
  };
  const Restructure restructure = [](std::vector<uint8_t>& b, std::mt19937_64& r) {
    // the header object itself, or the first tensor's entry (its opening brace after the name)
    size_t open = 8;
    if (r() % 2 == 0)
      for (size_t p = 9; p < b.size(); ++p)
        if (b[p] == '{') { open = p; break; }
    put_le(b, 0, 8, static_cast<uint64_t>(static_cast<std::ptrdiff_t>(load_header_length(b)) + restructure_json(b, open, r)));
  };
  report("safetensors", fuzz("safetensors", st, fields, field, exercise_safetensors, fuzz_seed() + 2, iters, restructure),
         4, iters);
}

TEST(Fuzz, HfConfigMutantsOnlyThrowAbqError) {
  const int iters = fuzz_iters();
  const std::vector<uint8_t> config = valid_hf_config();
  write_file(temp_path("fuzz_valid_config.json"), config);
  ASSERT_NO_THROW(exercise_hf_config(temp_path("fuzz_valid_config.json")));
  std::mt19937_64 values(fuzz_seed() + 5);
  const Corrupt field = [&](std::vector<uint8_t>& b, const std::pair<size_t, int>& f, uint64_t) {
    replace_number(b, f.first, interesting_json(values, b.size()));
  };
  const Restructure restructure = [](std::vector<uint8_t>& b, std::mt19937_64& r) {
    size_t open = 0;  // the top-level object, or the rope_scaling object
    if (r() % 2 == 0)
      for (size_t p = 1; p < b.size(); ++p)
        if (b[p] == '{') { open = p; break; }
    restructure_json(b, open, r);
  };
  report("config.json",
         fuzz("config.json", config, number_fields(config, 0, config.size()), field, exercise_hf_config, fuzz_seed() + 4,
              iters, restructure),
         4, iters);
}

}  // namespace
}  // namespace abq::io

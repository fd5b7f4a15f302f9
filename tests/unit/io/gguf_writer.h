// Test helpers for io/: a minimal GGUF v2/v3 writer, a safetensors writer and temp-file utilities,
// so the reader tests build their inputs from known values instead of shipping binary fixtures.
// The writers are written from the format description (ggml gguf.h, safetensors README), not
// from the readers, so the two can disagree if either is wrong.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace abq::io::testing {

inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "abq_io_" + name;
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline void write_text(const std::string& path, const std::string& text) {
  write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

/// Little-endian byte sink.
struct Bytes {
  std::vector<uint8_t> b;
  void u8(uint8_t v) { b.push_back(v); }
  void u16(uint16_t v) { for (int k = 0; k < 2; ++k) b.push_back(static_cast<uint8_t>(v >> (8 * k))); }
  void u32(uint32_t v) { for (int k = 0; k < 4; ++k) b.push_back(static_cast<uint8_t>(v >> (8 * k))); }
  void u64(uint64_t v) { for (int k = 0; k < 8; ++k) b.push_back(static_cast<uint8_t>(v >> (8 * k))); }
  void f32(float v) { uint32_t u; std::memcpy(&u, &v, 4); u32(u); }
  void f64(double v) { uint64_t u; std::memcpy(&u, &v, 8); u64(u); }
  void raw(const std::vector<uint8_t>& v) { b.insert(b.end(), v.begin(), v.end()); }
};

/// GGUF value type ids (gguf.h).
enum : uint32_t { kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
                  kStr = 8, kArr = 9, kU64 = 10, kI64 = 11, kF64 = 12 };

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t version = 3) : version_(version) {}

  // Metadata: each call appends one pair; `value` is the encoded value after the type field.
  void kv_raw(const std::string& key, uint32_t type, const std::vector<uint8_t>& value) {
    kvs_.push_back({key, type, value});
  }
  void kv_u32(const std::string& k, uint32_t v) { Bytes b; b.u32(v); kv_raw(k, kU32, b.b); }
  void kv_i32(const std::string& k, int32_t v) { Bytes b; b.u32(static_cast<uint32_t>(v)); kv_raw(k, kI32, b.b); }
  void kv_u64(const std::string& k, uint64_t v) { Bytes b; b.u64(v); kv_raw(k, kU64, b.b); }
  void kv_f32(const std::string& k, float v) { Bytes b; b.f32(v); kv_raw(k, kF32, b.b); }
  void kv_bool(const std::string& k, bool v) { kv_raw(k, kBool, {static_cast<uint8_t>(v)}); }
  void kv_str(const std::string& k, const std::string& v) { kv_raw(k, kStr, str(v)); }
  void kv_str_array(const std::string& k, const std::vector<std::string>& v) {
    Bytes b; b.u32(kStr); b.u64(v.size());
    for (const auto& s : v) b.raw(str(s));
    kv_raw(k, kArr, b.b);
  }
  void kv_i32_array(const std::string& k, const std::vector<int32_t>& v) {
    Bytes b; b.u32(kI32); b.u64(v.size());
    for (int32_t x : v) b.u32(static_cast<uint32_t>(x));
    kv_raw(k, kArr, b.b);
  }
  void kv_f32_array(const std::string& k, const std::vector<float>& v) {
    Bytes b; b.u32(kF32); b.u64(v.size());
    for (float x : v) b.f32(x);
    kv_raw(k, kArr, b.b);
  }
  static std::vector<uint8_t> str(const std::string& s) {
    Bytes b; b.u64(s.size());
    b.b.insert(b.b.end(), s.begin(), s.end());
    return b.b;
  }

  /// Tensor with ggml shape (ne[0] first) and its encoded bytes; offsets are assigned on build.
  void tensor(const std::string& name, const std::vector<uint64_t>& ne, uint32_t type,
              const std::vector<uint8_t>& data) {
    tensors_.push_back({name, ne, type, data});
  }
  void alignment(uint64_t a) { alignment_ = a; }

  /// Byte positions (and widths) of every count / length / offset field written by the last
  /// build(), for the fuzz test's length-field corruptions.
  const std::vector<std::pair<size_t, int>>& length_fields() const { return fields_; }

  std::vector<uint8_t> build() {
    fields_.clear();
    Bytes o;
    o.u32(0x46554747u);
    o.u32(version_);
    mark(o, 8); o.u64(tensors_.size());
    mark(o, 8); o.u64(kvs_.size());
    for (const auto& kv : kvs_) {
      mark(o, 8); o.raw(str(kv.key));
      o.u32(kv.type);
      if (kv.type == kStr) mark(o, 8);
      if (kv.type == kArr) { fields_.push_back({o.b.size() + 4, 8}); }
      o.raw(kv.value);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
      mark(o, 8); o.raw(str(t.name));
      mark(o, 4); o.u32(static_cast<uint32_t>(t.ne.size()));
      for (uint64_t d : t.ne) { mark(o, 8); o.u64(d); }
      o.u32(t.type);
      mark(o, 8); o.u64(offset);
      offset += t.data.size();
      offset = (offset + alignment_ - 1) / alignment_ * alignment_;
    }
    while (o.b.size() % alignment_) o.u8(0);
    for (const auto& t : tensors_) {
      o.raw(t.data);
      while (o.b.size() % alignment_) o.u8(0);
    }
    return o.b;
  }

 private:
  void mark(const Bytes& o, int width) { fields_.push_back({o.b.size(), width}); }
  struct Kv { std::string key; uint32_t type; std::vector<uint8_t> value; };
  struct Tensor { std::string name; std::vector<uint64_t> ne; uint32_t type; std::vector<uint8_t> data; };
  uint32_t version_;
  uint64_t alignment_ = 32;
  std::vector<Kv> kvs_;
  std::vector<Tensor> tensors_;
  std::vector<std::pair<size_t, int>> fields_;
};

/// F32 values as little-endian bytes.
inline std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  Bytes b;
  for (float x : v) b.f32(x);
  return b.b;
}
/// Raw 16-bit patterns (F16 / BF16) as little-endian bytes.
inline std::vector<uint8_t> u16_bytes(const std::vector<uint16_t>& v) {
  Bytes b;
  for (uint16_t x : v) b.u16(x);
  return b.b;
}

/// A safetensors file: header JSON written by hand (entries in the given order), then data.
struct SafetensorsEntry {
  std::string name, dtype, shape_json;  // shape_json like "[2, 3]"
  std::vector<uint8_t> data;
};
inline std::vector<uint8_t> safetensors_bytes(const std::vector<SafetensorsEntry>& entries,
                                              const std::string& metadata_json = "") {
  std::string header = "{";
  size_t offset = 0;
  bool first = true;
  if (!metadata_json.empty()) {
    header += "\"__metadata__\":" + metadata_json;
    first = false;
  }
  for (const auto& e : entries) {
    if (!first) header += ",";
    first = false;
    header += "\"" + e.name + "\":{\"dtype\":\"" + e.dtype + "\",\"shape\":" + e.shape_json +
              ",\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + e.data.size()) + "]}";
    offset += e.data.size();
  }
  header += "}";
  Bytes o;
  o.u64(header.size());
  o.b.insert(o.b.end(), header.begin(), header.end());
  for (const auto& e : entries) o.raw(e.data);
  return o.b;
}

/// Raw header text + data, for hostile cases.
inline std::vector<uint8_t> safetensors_raw(const std::string& header, const std::vector<uint8_t>& data) {
  Bytes o;
  o.u64(header.size());
  o.b.insert(o.b.end(), header.begin(), header.end());
  o.raw(data);
  return o.b;
}

}  // namespace abq::io::testing

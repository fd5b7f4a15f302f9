#include "framework/io/gguf_writer.h"

#include <cstring>
#include <fstream>
#include <set>

#include "framework/core/error.h"

namespace abq::io {
namespace {

constexpr uint32_t kVersion = 3;
constexpr uint64_t kDefaultAlignment = 32;
constexpr int64_t kBlock = 32;  // elements per Q4_0 / Q4_1 / Q8_0 block

// Little-endian byte sink.
struct Bytes {
  std::vector<uint8_t> b;
  void u8(uint8_t v) { b.push_back(v); }
  void u16(uint16_t v) { for (int k = 0; k < 2; ++k) b.push_back(uint8_t(v >> (8 * k))); }
  void u32(uint32_t v) { for (int k = 0; k < 4; ++k) b.push_back(uint8_t(v >> (8 * k))); }
  void u64(uint64_t v) { for (int k = 0; k < 8; ++k) b.push_back(uint8_t(v >> (8 * k))); }
  void f32(float f) { uint32_t v; std::memcpy(&v, &f, 4); u32(v); }
  void f64(double f) { uint64_t v; std::memcpy(&v, &f, 8); u64(v); }
  void str(const std::string& s) { u64(s.size()); b.insert(b.end(), s.begin(), s.end()); }
  void pad_to(uint64_t alignment) { while (b.size() % alignment) b.push_back(0); }
};

// One scalar of type t from the integer / float / bool field GgufFile fills for it.
void put_scalar(Bytes& o, GgufValueType t, int64_t i, double f, bool flag, const std::string& key) {
  switch (t) {
    case GgufValueType::UINT8: case GgufValueType::INT8: o.u8(uint8_t(i)); return;
    case GgufValueType::UINT16: case GgufValueType::INT16: o.u16(uint16_t(i)); return;
    case GgufValueType::UINT32: case GgufValueType::INT32: o.u32(uint32_t(i)); return;
    case GgufValueType::UINT64: case GgufValueType::INT64: o.u64(uint64_t(i)); return;
    case GgufValueType::FLOAT32: o.f32(float(f)); return;
    case GgufValueType::FLOAT64: o.f64(f); return;
    case GgufValueType::BOOL: o.u8(flag ? 1 : 0); return;
    default: throw Error(cat("gguf metadata '", key, "': type ", gguf_value_type_name(t), " is not a scalar"));
  }
}

bool is_float_type(GgufValueType t) { return t == GgufValueType::FLOAT32 || t == GgufValueType::FLOAT64; }

void put_value(Bytes& o, const GgufValue& v, const std::string& key);

void put_array(Bytes& o, const GgufValue& v, const std::string& key) {
  o.u32(uint32_t(v.elem_type));
  const GgufValueType e = v.elem_type;
  if (e == GgufValueType::STRING) {
    o.u64(v.strings.size());
    for (const auto& s : v.strings) o.str(s);
  } else if (e == GgufValueType::ARRAY) {
    o.u64(v.arrays.size());
    for (const auto& a : v.arrays) put_value(o, a, key);
  } else if (e == GgufValueType::BOOL) {
    o.u64(v.bools.size());
    for (uint8_t b : v.bools) o.u8(b ? 1 : 0);
  } else if (is_float_type(e)) {
    o.u64(v.floats.size());
    for (double f : v.floats) put_scalar(o, e, 0, f, false, key);
  } else {
    o.u64(v.ints.size());
    for (int64_t i : v.ints) put_scalar(o, e, i, 0, false, key);
  }
}

// The value itself (an array element's type is written by put_array, a pair's by the caller).
void put_value(Bytes& o, const GgufValue& v, const std::string& key) {
  if (v.type == GgufValueType::STRING) return o.str(v.s);
  if (v.type == GgufValueType::ARRAY) {
    return put_array(o, v, key);
  }
  put_scalar(o, v.type, v.i, v.f, v.b, key);
}

uint64_t alignment_of(const std::vector<GgufKeyValue>& metadata) {
  for (const auto& kv : metadata)
    if (kv.key == "general.alignment") {
      if (kv.value.type != GgufValueType::UINT32 || kv.value.i <= 0 || (kv.value.i & (kv.value.i - 1)) != 0)
        throw Error(cat("gguf metadata 'general.alignment' must be a uint32 power of two, got ", kv.value.i));
      return uint64_t(kv.value.i);
    }
  return kDefaultAlignment;
}

// The byte count `t` must have for its shape and type.
uint64_t expected_bytes(const GgufTensorToWrite& t) {
  const GgmlTypeTraits traits = ggml_type_traits(uint32_t(t.type));
  if (!traits.name) throw Error(cat("gguf tensor '", t.name, "': unknown ggml type ", uint32_t(t.type)));
  if (t.shape.empty() || t.shape.size() > 4) throw Error(cat("gguf tensor '", t.name, "': ", t.shape.size(), " dimensions (1..4)"));
  int64_t numel = 1;
  for (int64_t d : t.shape) {
    if (d < 1) throw Error(cat("gguf tensor '", t.name, "': dimension ", d, " < 1"));
    numel *= d;
  }
  if (t.shape[0] % traits.block_elems != 0)
    throw Error(cat("gguf tensor '", t.name, "': row length ", t.shape[0], " is not whole ", traits.name, " blocks of ",
                    traits.block_elems));
  return uint64_t(numel / traits.block_elems * traits.block_bytes);
}

}  // namespace

GgufValue gguf_string(const std::string& s) {
  GgufValue v;
  v.type = GgufValueType::STRING;
  v.s = s;
  return v;
}

GgufValue gguf_u32(uint32_t x) {
  GgufValue v;
  v.type = GgufValueType::UINT32;
  v.i = x;
  return v;
}

GgufValue gguf_f32(float x) {
  GgufValue v;
  v.type = GgufValueType::FLOAT32;
  v.f = x;
  return v;
}

void write_gguf(const std::string& path, const std::vector<GgufKeyValue>& metadata,
                const std::vector<GgufTensorToWrite>& tensors) {
  const uint64_t alignment = alignment_of(metadata);
  Bytes head;
  head.u32(0x46554747u);  // "GGUF"
  head.u32(kVersion);
  head.u64(tensors.size());
  head.u64(metadata.size());
  std::set<std::string> seen;
  for (const auto& kv : metadata) {
    if (!seen.insert(kv.key).second) throw Error(cat("gguf metadata key '", kv.key, "' given twice"));
    head.str(kv.key);
    head.u32(uint32_t(kv.value.type));
    put_value(head, kv.value, kv.key);
  }
  seen.clear();
  uint64_t offset = 0;  // relative to the data section
  for (const auto& t : tensors) {
    if (!seen.insert(t.name).second) throw Error(cat("gguf tensor '", t.name, "' given twice"));
    const uint64_t want = expected_bytes(t);
    if (t.bytes.size() != want)
      throw Error(cat("gguf tensor '", t.name, "': ", t.bytes.size(), " bytes for ", ggml_type_name(t.type), " of its shape, expected ", want));
    head.str(t.name);
    head.u32(uint32_t(t.shape.size()));
    for (int64_t d : t.shape) head.u64(uint64_t(d));
    head.u32(uint32_t(t.type));
    head.u64(offset);
    offset += (want + alignment - 1) / alignment * alignment;
  }
  head.pad_to(alignment);

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(cat("cannot create '", path, "'"));
  out.write(reinterpret_cast<const char*>(head.b.data()), std::streamsize(head.b.size()));
  const std::vector<char> zeros(alignment, 0);
  for (const auto& t : tensors) {
    out.write(reinterpret_cast<const char*>(t.bytes.data()), std::streamsize(t.bytes.size()));
    out.write(zeros.data(), std::streamsize((alignment - t.bytes.size() % alignment) % alignment));
  }
  if (!out.flush()) throw Error(cat("cannot write '", path, "'"));
}

std::vector<uint8_t> encode_gguf_blocks(GgmlType type, const int32_t* codes, const uint16_t* d, const uint16_t* m,
                                        int64_t n) {
  if (n % kBlock != 0) throw Error(cat("gguf ", ggml_type_name(type), ": ", n, " elements are not whole blocks of 32"));
  int lo = 0, hi = 0, offset = 0;  // code range, and what the stored byte adds
  switch (type) {
    case GgmlType::Q4_0: lo = -8, hi = 7, offset = 8; break;
    case GgmlType::Q4_1: lo = 0, hi = 15; break;
    case GgmlType::Q8_0: lo = -128, hi = 127; break;
    default: throw Error(cat("gguf: no block encoder for ", ggml_type_name(type), " (Q4_0, Q4_1, Q8_0)"));
  }
  for (int64_t j = 0; j < n; ++j)
    if (codes[j] < lo || codes[j] > hi)
      throw Error(cat("gguf ", ggml_type_name(type), ": code ", codes[j], " of element ", j, " outside [", lo, ", ", hi, "]"));
  Bytes o;
  for (int64_t b = 0; b < n / kBlock; ++b) {
    const int32_t* q = codes + b * kBlock;
    o.u16(d[b]);
    if (type == GgmlType::Q4_1) o.u16(m[b]);
    if (type == GgmlType::Q8_0) {
      for (int j = 0; j < kBlock; ++j) o.u8(uint8_t(int8_t(q[j])));
    } else {
      for (int j = 0; j < kBlock / 2; ++j) o.u8(uint8_t((q[j] + offset) | (q[j + kBlock / 2] + offset) << 4));
    }
  }
  return std::move(o.b);
}

}  // namespace abq::io

// GgufFile: reader for GGUF v2/v3 files (llama.cpp's model format): metadata, tensor table and
// dequantized tensor data, straight out of a read-only memory map.
//
// The binary layout, step by step (all integers little-endian):
//   1. magic      u32   "GGUF" (bytes 47 47 55 46)
//   2. version    u32   2 or 3 (v1 used u32 counts and is refused; v3 only added big-endian files,
//                       which carry a byte-swapped version and are refused too)
//   3. n_tensors  u64
//   4. n_kv       u64
//   5. n_kv metadata pairs, each
//        key    gguf_string  = u64 length, then that many UTF-8 bytes (no terminator)
//        type   u32          value type: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool (1 byte),
//                            8 string, 9 array, 10 u64, 11 i64, 12 f64
//        value  the value itself; an array is: element type u32, count u64, then count elements
//               (arrays may nest: an element type of 9 makes every element an array)
//   6. n_tensors tensor infos, each
//        name     gguf_string
//        n_dims   u32      (at most 4)
//        ne       u64[n_dims]   ggml order: ne[0] is the fastest-varying dimension (row length)
//        type     u32      GgmlType (see gguf_dequant.h)
//        offset   u64      of the tensor's bytes, relative to the start of the data section;
//                          a multiple of the alignment
//   7. padding up to a multiple of the alignment (metadata key general.alignment, u32, default 32)
//   8. data section: tensor bytes; tensor k occupies [offset, offset + size_bytes)
//
// Every count, length and offset is checked against the file length before it is used, so a
// truncated or corrupted file gives an abq::Error naming the file and the key or tensor, never a
// crash. Keys and tensor names must be unique.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/io/gguf_dequant.h"
#include "framework/io/mapped_file.h"

namespace abq::io {

enum class GgufValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};

/// "uint32", "array<string>", ...
std::string gguf_value_type_name(GgufValueType type);

/// One metadata value. Scalars use one of i/f/b/s; arrays fill exactly one of the vectors
/// according to elem_type (integers of every width -> ints, f32/f64 -> floats, bool -> bools).
struct GgufValue {
  GgufValueType type = GgufValueType::UINT8;
  int64_t i = 0;  // all integer types; a UINT64 above INT64_MAX is stored wrapped and refused by getters
  double f = 0.0;
  bool b = false;
  std::string s;
  GgufValueType elem_type = GgufValueType::UINT8;  // arrays only
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<uint8_t> bools;
  std::vector<std::string> strings;
  std::vector<GgufValue> arrays;  // nested arrays
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // ggml order: shape[0] = ne[0] is the fastest-varying (row length)
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;      // absolute byte offset in the file (data section start + relative offset)
  uint64_t size_bytes = 0;  // bytes of tensor data
  int64_t numel() const;
};

class GgufFile {
 public:
  /// Opens, maps and validates `path`. Throws abq::Error naming the file and the offending
  /// key / tensor on any malformed input.
  static GgufFile open(const std::string& path);

  uint32_t version() const { return version_; }
  const std::string& path() const { return path_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute start of the data section

  bool has(const std::string& key) const { return kv_.count(key) != 0; }
  /// Keys in file order.
  std::vector<std::string> keys() const { return key_order_; }
  /// The raw value; throws when the key is missing.
  const GgufValue& value(const std::string& key) const;

  // Typed getters. A missing key or a wrong type throws abq::Error naming the key, the expected and
  // actual type and the file. get_int accepts every integer width; get_float also accepts integers.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;
  std::vector<double> get_float_array(const std::string& key) const;

  /// Tensors in file order.
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  bool has_tensor(const std::string& name) const { return tensor_index_.count(name) != 0; }
  /// Throws abq::Error (with a "did you mean") when there is no such tensor.
  const GgufTensorInfo& tensor(const std::string& name) const;
  /// The tensor's raw bytes inside the mapping (size_bytes long).
  const uint8_t* tensor_data(const std::string& name) const;

  /// Dequantized to float32 in storage order: row-major over the reversed ggml shape, i.e. element
  /// (i1, i0) of a 2-D tensor is at i1 * ne[0] + i0; numel = prod(shape). Throws for types that
  /// have no decoder (see gguf_dequant.h), naming the tensor and the type.
  std::vector<float> dequantize(const std::string& name) const;

 private:
  std::string path_;
  std::shared_ptr<MappedFile> file_;  // shared so GgufFile stays cheap to copy
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::map<std::string, GgufValue> kv_;
  std::vector<std::string> key_order_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace abq::io

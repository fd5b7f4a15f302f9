// SafetensorsCheckpoint: memory-mapped reader for Hugging Face safetensors checkpoints, one file or
// sharded (model.safetensors.index.json). Tensors are read one at a time, so a caller can load a
// model block by block without holding it all in RAM.
//
// File layout (https://github.com/huggingface/safetensors):
//   1. N        u64 little-endian: byte length of the header
//   2. header   N bytes of UTF-8 JSON: {"<name>": {"dtype": "F16", "shape": [4096, 11008],
//               "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"} (optional)}
//   3. data     the byte buffer; a tensor's bytes are [8 + N + begin, 8 + N + end), row-major,
//               little-endian, with end - begin == prod(shape) * sizeof(dtype).
// A sharded checkpoint adds model.safetensors.index.json: {"weight_map": {"<name>": "<shard file>"}}.
//
// Checked on open: header length within the file, JSON well-formed, every entry's dtype known,
// shape non-negative, offsets inside the data buffer, byte size matching dtype x shape, no two
// tensors overlapping; for shards: every shard present and holding the tensors the index assigns
// to it. Errors name the file and the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/io/mapped_file.h"

namespace abq::io {

enum class SafetensorsDtype { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2 };

/// "F16", ...
const char* safetensors_dtype_name(SafetensorsDtype dtype);
/// Bytes per element.
int64_t safetensors_dtype_size(SafetensorsDtype dtype);

/// A tensor's raw bytes inside the mapping; valid while the checkpoint object (or a copy) lives.
struct TensorView {
  std::string name;
  std::string file;  // the shard it lives in
  SafetensorsDtype dtype = SafetensorsDtype::F32;
  std::vector<int64_t> shape;  // row-major, outermost first (PyTorch order)
  const uint8_t* data = nullptr;
  uint64_t size_bytes = 0;
  int64_t numel() const;
};

class SafetensorsCheckpoint {
 public:
  /// `dir_or_file`: a .safetensors file, a model.safetensors.index.json, or a directory holding
  /// either model.safetensors.index.json (sharded, preferred) or model.safetensors.
  static SafetensorsCheckpoint open(const std::string& dir_or_file);

  /// Sorted by name.
  std::vector<std::string> tensor_names() const;
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  /// Throws abq::Error (with a "did you mean") for an unknown name.
  TensorView view(const std::string& name) const;
  /// F32 / F16 / BF16 converted to float32, row-major; other dtypes throw naming tensor and dtype.
  std::vector<float> read_f32(const std::string& name) const;
  /// Gives back the pages of tensor `name`'s bytes (MappedFile::release_pages), so a reader that
  /// has converted the tensor can keep the checkpoint open without its RSS growing. The view stays
  /// readable. Throws abq::Error (with a "did you mean") for an unknown name.
  void release(const std::string& name) const;
  /// Gives back every page of the shard file holding tensor `name`. Reading one tensor can map
  /// pages beyond its bytes (the kernel maps whole page-cache folios and fault-around windows), so
  /// a reader that is done with a shard for now drops all of it; nothing is lost but page faults.
  void release_shard(const std::string& name) const;
  /// The __metadata__ string map of the first shard (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  struct Entry {
    size_t shard;
    SafetensorsDtype dtype;
    std::vector<int64_t> shape;
    uint64_t begin;  // absolute offset in the shard file
    uint64_t size;
  };
  void add_shard(const std::string& path, const std::vector<std::string>* expected);

  std::string source_;
  std::vector<std::shared_ptr<MappedFile>> shards_;
  std::map<std::string, Entry> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace abq::io

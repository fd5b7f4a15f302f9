// A flat, pickle-free file of named tensors for calibration checkpoints. Bytes are copied as they
// are in memory, so a save / load round trip is bit-identical.
//
// Layout (little-endian hosts; all integers uint64 unless noted):
//   "ABQTENS1"                         8-byte magic
//   count
//   count × { name_len, name bytes, dtype (int64: 0 f32, 1 f64, 2 f16, 3 bf16, 4 i64, 5 i32),
//             ndim, dims (int64 × ndim), nbytes, raw bytes (row-major, contiguous) }
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace abq::calib {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// Writes `tensors` (any device; copied to the CPU) to `path` through a temporary file and a rename,
/// so a reader never sees a half-written file. Throws abq::Error naming the path on I/O failure
/// or an unsupported dtype.
void save_tensors(const std::string& path, const NamedTensors& tensors);

/// Reads a file written by save_tensors; tensors come back on the CPU. Throws abq::Error naming the
/// path and the byte offset when the file is truncated or not such a file.
NamedTensors load_tensors(const std::string& path);

/// The bytes save_tensors writes (stage cache entries hold them too); `source` names the
/// destination in errors (an unsupported dtype).
std::string encode_tensors(const NamedTensors& tensors, const std::string& source);
/// The tensors of encode_tensors' bytes, on the CPU; abq::Error naming `source` and the offset as
/// load_tensors.
NamedTensors decode_tensors(const std::string& bytes, const std::string& source);

}  // namespace abq::calib

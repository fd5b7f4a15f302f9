// Writing one .safetensors file (the format read by safetensors.h): an 8-byte little-endian header
// length, the JSON header {"<name>": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {string: string}} padded with spaces to a multiple of 8, then the tensors'
// bytes back to back in the order given. Pure C++: callers pass raw little-endian bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "framework/io/safetensors.h"

namespace abq::io {

struct TensorToWrite {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;  // prod(shape) * dtype size, row-major
};

/// Writes `tensors` to `path` (replacing it). Throws abq::Error naming the tensor whose byte size
/// does not match dtype x shape, a duplicate name, or the file that cannot be written.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace abq::io

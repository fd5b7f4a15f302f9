#include "framework/io/safetensors_writer.h"

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "framework/core/error.h"

namespace abq::io {

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (!names.insert(t.name).second) throw Error(cat("safetensors '", path, "': tensor '", t.name, "' given twice"));
    int64_t numel = 1;
    for (int64_t d : t.shape) numel *= d;
    const uint64_t want = uint64_t(numel) * uint64_t(safetensors_dtype_size(t.dtype));
    if (t.bytes.size() != want)
      throw Error(cat("safetensors '", path, "': tensor '", t.name, "' has ", t.bytes.size(), " bytes; ",
                      safetensors_dtype_name(t.dtype), " x ", numel, " elements needs ", want));
    header[t.name] = {{"dtype", safetensors_dtype_name(t.dtype)}, {"shape", t.shape},
                      {"data_offsets", {offset, offset + want}}};
    offset += want;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data buffer 8-byte aligned
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(cat("cannot write safetensors file '", path, "'"));
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = uint8_t((uint64_t(text.size()) >> (8 * i)) & 0xff);
  out.write(reinterpret_cast<const char*>(length), 8);
  out.write(text.data(), std::streamsize(text.size()));
  for (const auto& t : tensors) out.write(reinterpret_cast<const char*>(t.bytes.data()), std::streamsize(t.bytes.size()));
  if (!out.flush()) throw Error(cat("writing safetensors file '", path, "' failed (disk full?)"));
}

}  // namespace abq::io

#include "framework/calib/tensor_file.h"

#include <cstdint>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "framework/core/error.h"

namespace abq::calib {
namespace {

constexpr char kMagic[8] = {'A', 'B', 'Q', 'T', 'E', 'N', 'S', '1'};

int64_t dtype_code(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return 0;
    case torch::kFloat64: return 1;
    case torch::kFloat16: return 2;
    case torch::kBFloat16: return 3;
    case torch::kInt64: return 4;
    case torch::kInt32: return 5;
    default: return -1;
  }
}

torch::ScalarType dtype_of(int64_t code) {
  switch (code) {
    case 0: return torch::kFloat32;
    case 1: return torch::kFloat64;
    case 2: return torch::kFloat16;
    case 3: return torch::kBFloat16;
    case 4: return torch::kInt64;
    case 5: return torch::kInt32;
    default: return torch::kFloat32;
  }
}

void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

// Reader over the bytes of one file that knows its position, so truncation is reported, not read past.
struct Reader {
  const std::string& bytes;
  const std::string& source;  // the file's path, for messages
  uint64_t pos = 0;

  void read(void* dst, uint64_t n) {
    if (n > bytes.size() - pos)
      throw Error(cat("tensor file ", source, " is truncated: needs ", n, " bytes at offset ", pos, ", file has ", bytes.size()));
    std::memcpy(dst, bytes.data() + pos, n);
    pos += n;
  }
  uint64_t u64() {
    uint64_t v = 0;
    read(&v, sizeof v);
    return v;
  }
};

}  // namespace

std::string encode_tensors(const NamedTensors& tensors, const std::string& source) {
  std::string out(kMagic, sizeof kMagic);
  put_u64(out, tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const int64_t code = dtype_code(tensor.scalar_type());
    if (code < 0) throw Error(cat("tensor '", name, "' has dtype ", tensor.scalar_type(), ", which ", source, " cannot store"));
    auto cpu = tensor.detach().to(torch::kCPU).contiguous();
    put_u64(out, name.size());
    out += name;
    put_u64(out, uint64_t(code));
    put_u64(out, uint64_t(cpu.dim()));
    for (int64_t d : cpu.sizes()) put_u64(out, uint64_t(d));
    const uint64_t nbytes = uint64_t(cpu.numel()) * uint64_t(cpu.element_size());
    put_u64(out, nbytes);
    out.append(static_cast<const char*>(cpu.data_ptr()), nbytes);
  }
  return out;
}

NamedTensors decode_tensors(const std::string& bytes, const std::string& source) {
  Reader r{bytes, source};
  char magic[8];
  r.read(magic, sizeof magic);
  if (!std::equal(magic, magic + 8, kMagic)) throw Error(cat(source, " is not an abq tensor file (bad magic)"));
  const uint64_t count = r.u64();
  NamedTensors tensors;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t name_len = r.u64();
    if (name_len > bytes.size()) throw Error(cat("tensor file ", source, ": bad name length ", name_len, " at offset ", r.pos));
    std::string name(name_len, '\0');
    r.read(name.data(), name_len);
    const uint64_t code = r.u64();
    if (code > 5) throw Error(cat("tensor file ", source, ": tensor '", name, "' has unknown dtype code ", code));
    const uint64_t ndim = r.u64();
    if (ndim > 16) throw Error(cat("tensor file ", source, ": tensor '", name, "' has ", ndim, " dims"));
    std::vector<int64_t> dims(ndim);
    for (auto& d : dims) d = int64_t(r.u64());
    for (int64_t d : dims)
      if (d < 0 || uint64_t(d) > bytes.size())
        throw Error(cat("tensor file ", source, ": tensor '", name, "' has a dimension of ", d));
    auto t = torch::empty(dims, torch::TensorOptions().dtype(dtype_of(int64_t(code))));
    const uint64_t nbytes = r.u64();
    const uint64_t expected = uint64_t(t.numel()) * uint64_t(t.element_size());
    if (nbytes != expected)
      throw Error(cat("tensor file ", source, ": tensor '", name, "' holds ", nbytes, " bytes, its shape needs ", expected));
    r.read(t.data_ptr(), nbytes);
    tensors.emplace_back(std::move(name), std::move(t));
  }
  return tensors;
}

void save_tensors(const std::string& path, const NamedTensors& tensors) {
  const std::string bytes = encode_tensors(tensors, path);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(cat("cannot write tensor file ", tmp));
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.flush();
    if (!out) throw Error(cat("writing tensor file ", tmp, " failed (disk full?)"));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(cat("cannot rename ", tmp, " to ", path, ": ", ec.message()));
}

NamedTensors load_tensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(cat("cannot open tensor file ", path));
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(cat("cannot stat tensor file ", path, ": ", ec.message()));
  std::string bytes(size, '\0');
  in.read(bytes.data(), std::streamsize(size));
  if (!in) throw Error(cat("reading tensor file ", path, " failed"));
  return decode_tensors(bytes, path);
}

}  // namespace abq::calib

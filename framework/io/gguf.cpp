#include "framework/io/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"
#include "framework/io/float16.h"

namespace abq::io {
namespace {

constexpr uint32_t kMagic = 0x46554747u;  // "GGUF" read as a little-endian u32
constexpr uint32_t kMaxDims = 4;          // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;         // nested arrays deeper than this are refused

// Bounds-checked cursor over the mapped bytes. Every read names what it was reading, so a
// truncated file says which key or tensor ran past the end.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size, const std::string& path)
      : data_(data), size_(size), path_(path) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  void need(uint64_t n, const std::string& what) const {
    if (n > size_ - pos_) {
      throw Error(cat(path_, ": truncated while reading ", what, " at byte ", pos_, ": need ", n,
                      " bytes, only ", size_ - pos_, " left (file is ", size_, " bytes)"));
    }
  }
  const uint8_t* take(uint64_t n, const std::string& what) {
    need(n, what);
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  uint8_t u8(const std::string& what) { return *take(1, what); }
  uint16_t u16(const std::string& what) { return load_u16le(take(2, what)); }
  uint32_t u32(const std::string& what) { return load_u32le(take(4, what)); }
  uint64_t u64(const std::string& what) { return load_u64le(take(8, what)); }
  std::string str(const std::string& what) {
    const uint64_t len = u64(what + " (string length)");
    const uint8_t* p = take(len, what);
    return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& path_;
};

bool valid_value_type(uint32_t t) { return t <= 12; }

// The fewest bytes one element of this type can take; bounds an array's count before reserving.
uint64_t min_elem_bytes(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::BOOL: return 1;
    case GgufValueType::UINT16: case GgufValueType::INT16: return 2;
    case GgufValueType::UINT32: case GgufValueType::INT32: case GgufValueType::FLOAT32: return 4;
    case GgufValueType::UINT64: case GgufValueType::INT64: case GgufValueType::FLOAT64: return 8;
    case GgufValueType::STRING: return 8;   // the length field
    case GgufValueType::ARRAY: return 12;   // element type + count
  }
  return 1;
}

bool is_integer(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::UINT16:
    case GgufValueType::INT16: case GgufValueType::UINT32: case GgufValueType::INT32:
    case GgufValueType::UINT64: case GgufValueType::INT64: return true;
    default: return false;
  }
}
bool is_float(GgufValueType t) { return t == GgufValueType::FLOAT32 || t == GgufValueType::FLOAT64; }

// Reads one scalar integer/float/bool of type t into (i, f, b).
void read_scalar(Cursor& in, GgufValueType t, const std::string& what, int64_t* i, double* f, bool* b,
                 const std::string& path) {
  switch (t) {
    case GgufValueType::UINT8: *i = in.u8(what); return;
    case GgufValueType::INT8: *i = static_cast<int8_t>(in.u8(what)); return;
    case GgufValueType::UINT16: *i = in.u16(what); return;
    case GgufValueType::INT16: *i = static_cast<int16_t>(in.u16(what)); return;
    case GgufValueType::UINT32: *i = in.u32(what); return;
    case GgufValueType::INT32: *i = static_cast<int32_t>(in.u32(what)); return;
    case GgufValueType::UINT64: *i = static_cast<int64_t>(in.u64(what)); return;
    case GgufValueType::INT64: *i = static_cast<int64_t>(in.u64(what)); return;
    case GgufValueType::FLOAT32: *f = load_f32le(in.take(4, what)); return;
    case GgufValueType::FLOAT64: {
      const uint64_t bits = in.u64(what);
      std::memcpy(f, &bits, sizeof bits);
      return;
    }
    case GgufValueType::BOOL: {
      const uint8_t v = in.u8(what);
      if (v > 1) throw Error(cat(path, ": ", what, ": bool must be 0 or 1, got ", int(v)));
      *b = v != 0;
      return;
    }
    default: ABQ_ASSERT(false, "not a scalar type");
  }
}

GgufValue read_value(Cursor& in, GgufValueType t, const std::string& what, const std::string& path,
                     int depth);

void read_array(Cursor& in, GgufValue& v, const std::string& what, const std::string& path, int depth) {
  if (depth >= kMaxArrayDepth) {
    throw Error(cat(path, ": ", what, ": arrays nested deeper than ", kMaxArrayDepth, " levels"));
  }
  const uint32_t et = in.u32(what + " (array element type)");
  if (!valid_value_type(et)) {
    throw Error(cat(path, ": ", what, ": unknown array element type ", et, " (expected 0..12)"));
  }
  v.elem_type = static_cast<GgufValueType>(et);
  const uint64_t count = in.u64(what + " (array length)");
  const uint64_t min_bytes = min_elem_bytes(v.elem_type);
  if (count > in.remaining() / min_bytes) {
    throw Error(cat(path, ": ", what, ": array of ", count, " ", gguf_value_type_name(v.elem_type),
                    " elements needs at least ", min_bytes, " bytes each but only ", in.remaining(),
                    " bytes are left in the file"));
  }
  const size_t n = static_cast<size_t>(count);
  if (v.elem_type == GgufValueType::STRING) {
    v.strings.reserve(n);
    for (size_t k = 0; k < n; ++k) v.strings.push_back(in.str(what));
  } else if (v.elem_type == GgufValueType::ARRAY) {
    v.arrays.reserve(n);
    for (size_t k = 0; k < n; ++k) v.arrays.push_back(read_value(in, GgufValueType::ARRAY, what, path, depth + 1));
  } else if (v.elem_type == GgufValueType::BOOL) {
    v.bools.resize(n);
    for (size_t k = 0; k < n; ++k) {
      int64_t i = 0; double f = 0; bool b = false;
      read_scalar(in, v.elem_type, what, &i, &f, &b, path);
      v.bools[k] = b;
    }
  } else if (is_float(v.elem_type)) {
    v.floats.resize(n);
    for (size_t k = 0; k < n; ++k) {
      int64_t i = 0; bool b = false;
      read_scalar(in, v.elem_type, what, &i, &v.floats[k], &b, path);
    }
  } else {
    v.ints.resize(n);
    for (size_t k = 0; k < n; ++k) {
      double f = 0; bool b = false;
      read_scalar(in, v.elem_type, what, &v.ints[k], &f, &b, path);
    }
  }
}

GgufValue read_value(Cursor& in, GgufValueType t, const std::string& what, const std::string& path,
                     int depth) {
  GgufValue v;
  v.type = t;
  if (t == GgufValueType::STRING) {
    v.s = in.str(what);
  } else if (t == GgufValueType::ARRAY) {
    read_array(in, v, what, path, depth);
  } else {
    read_scalar(in, t, what, &v.i, &v.f, &v.b, path);
  }
  return v;
}

// Two tensors sharing bytes mean a corrupted table (an edited type id makes an F32 norm read as
// Q8_0 and run into its neighbour): every tensor must own its range. Offsets are absolute here;
// messages give them relative to the data section, as the file stores them.
void check_no_overlap(const std::vector<GgufTensorInfo>& tensors, uint64_t data_offset, const std::string& path) {
  std::vector<const GgufTensorInfo*> order;
  for (const auto& t : tensors)
    if (t.size_bytes > 0) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const GgufTensorInfo* a, const GgufTensorInfo* b) {
    return a->offset != b->offset ? a->offset < b->offset : a->size_bytes < b->size_bytes;
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const GgufTensorInfo& a = *order[k - 1];
    const GgufTensorInfo& b = *order[k];
    if (b.offset < a.offset + a.size_bytes) {
      throw Error(cat(path, ": tensors '", a.name, "' [", a.offset - data_offset, ", ", a.offset - data_offset + a.size_bytes,
                      ") and '", b.name, "' [", b.offset - data_offset, ", ", b.offset - data_offset + b.size_bytes,
                      ") overlap in the data section; the tensor table is corrupt"));
    }
  }
}

std::string full_type_name(const GgufValue& v) {
  if (v.type != GgufValueType::ARRAY) return gguf_value_type_name(v.type);
  return "array<" + gguf_value_type_name(v.elem_type) + ">";
}

}  // namespace

std::string gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::UINT8: return "uint8";
    case GgufValueType::INT8: return "int8";
    case GgufValueType::UINT16: return "uint16";
    case GgufValueType::INT16: return "int16";
    case GgufValueType::UINT32: return "uint32";
    case GgufValueType::INT32: return "int32";
    case GgufValueType::FLOAT32: return "float32";
    case GgufValueType::BOOL: return "bool";
    case GgufValueType::STRING: return "string";
    case GgufValueType::ARRAY: return "array";
    case GgufValueType::UINT64: return "uint64";
    case GgufValueType::INT64: return "int64";
    case GgufValueType::FLOAT64: return "float64";
  }
  return cat("type#", static_cast<uint32_t>(type));
}

int64_t GgufTensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // overflow was ruled out when the file was opened
  return n;
}

GgufFile GgufFile::open(const std::string& path) {
  GgufFile g;
  g.path_ = path;
  g.file_ = std::make_shared<MappedFile>(MappedFile::open(path));
  const uint64_t file_size = g.file_->size();
  Cursor in(g.file_->data(), file_size, path);

  const uint32_t magic = in.u32("magic");
  if (magic != kMagic) {
    throw Error(cat(path, ": not a GGUF file (magic 0x", std::hex, magic, std::dec,
                    ", expected 0x46554747 \"GGUF\")"));
  }
  g.version_ = in.u32("version");
  if (g.version_ == 1) {
    throw Error(cat(path, ": unsupported GGUF version 1 (this reader supports versions 2 and 3); "
                          "re-convert the model with a current llama.cpp"));
  }
  if (g.version_ != 2 && g.version_ != 3) {
    const bool swapped = (g.version_ & 0xFFFFu) == 0 && g.version_ != 0;
    throw Error(cat(path, ": unsupported GGUF version ", g.version_,
                    " (this reader supports versions 2 and 3",
                    swapped ? "; this looks like a big-endian file, which is not supported" : "", ")"));
  }
  const uint64_t n_tensors = in.u64("tensor count");
  const uint64_t n_kv = in.u64("metadata count");
  // Each pair takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least
  // 8 + 4 + 4 + 8 bytes. Checking first keeps a corrupted count from reserving gigabytes.
  if (n_kv > in.remaining() / 13) {
    throw Error(cat(path, ": header claims ", n_kv, " metadata pairs but only ", in.remaining(),
                    " bytes follow"));
  }
  if (n_tensors > in.remaining() / 24) {
    throw Error(cat(path, ": header claims ", n_tensors, " tensors but only ", in.remaining(),
                    " bytes follow"));
  }

  g.key_order_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = in.str(cat("metadata key #", k));
    const std::string what = cat("metadata '", key, "'");
    const uint32_t t = in.u32(what + " (value type)");
    if (!valid_value_type(t)) {
      throw Error(cat(path, ": ", what, ": unknown value type ", t, " (expected 0..12)"));
    }
    GgufValue v = read_value(in, static_cast<GgufValueType>(t), what, path, 0);
    if (g.kv_.count(key)) throw Error(cat(path, ": duplicate metadata key '", key, "'"));
    g.key_order_.push_back(key);
    g.kv_.emplace(std::move(key), std::move(v));
  }

  if (g.has("general.alignment")) {
    const GgufValue& a = g.kv_.at("general.alignment");
    if (a.type != GgufValueType::UINT32) {
      throw Error(cat(path, ": metadata 'general.alignment' must be uint32, got ", full_type_name(a)));
    }
    if (a.i == 0 || (a.i & (a.i - 1)) != 0) {
      throw Error(cat(path, ": metadata 'general.alignment' must be a power of two, got ", a.i));
    }
    g.alignment_ = static_cast<uint64_t>(a.i);
  }

  g.tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo info;
    info.name = in.str(cat("name of tensor #", k));
    const std::string what = cat("tensor '", info.name, "'");
    const uint32_t n_dims = in.u32(what + " (n_dims)");
    if (n_dims > kMaxDims) {
      throw Error(cat(path, ": ", what, " has ", n_dims, " dimensions; at most ", kMaxDims, " allowed"));
    }
    int64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t ne = in.u64(what + " (shape)");
      if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw Error(cat(path, ": ", what, " dimension ", d, " is ", ne, ", out of range"));
      }
      const int64_t ne_s = static_cast<int64_t>(ne);
      if (ne_s != 0 && numel > std::numeric_limits<int64_t>::max() / ne_s) {
        throw Error(cat(path, ": ", what, " has too many elements (shape overflows int64)"));
      }
      numel *= ne_s;
      info.shape.push_back(ne_s);
    }
    const uint32_t type_id = in.u32(what + " (type)");
    const GgmlTypeTraits traits = ggml_type_traits(type_id);
    if (traits.name == nullptr) {
      throw Error(cat(path, ": ", what, " has unknown ggml type id ", type_id));
    }
    info.type = static_cast<GgmlType>(type_id);
    const int64_t row = info.shape.empty() ? 1 : info.shape[0];
    if (row % traits.block_elems != 0) {
      throw Error(cat(path, ": ", what, " of type ", traits.name, " has row length ", row,
                      ", not a multiple of the block size ", traits.block_elems));
    }
    const uint64_t n_blocks = static_cast<uint64_t>(numel / traits.block_elems);
    if (n_blocks > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(traits.block_bytes)) {
      throw Error(cat(path, ": ", what, " byte size overflows"));
    }
    info.size_bytes = n_blocks * static_cast<uint64_t>(traits.block_bytes);
    info.offset = in.u64(what + " (offset)");  // relative for now
    if (g.tensor_index_.count(info.name)) throw Error(cat(path, ": duplicate tensor name '", info.name, "'"));
    g.tensor_index_.emplace(info.name, g.tensors_.size());
    g.tensors_.push_back(std::move(info));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t end_of_infos = in.pos();
  const uint64_t pad = (g.alignment_ - end_of_infos % g.alignment_) % g.alignment_;
  g.data_offset_ = end_of_infos + pad;
  if (!g.tensors_.empty() && g.data_offset_ > file_size) {
    throw Error(cat(path, ": data section would start at byte ", g.data_offset_,
                    " but the file is only ", file_size, " bytes"));
  }
  const uint64_t data_size = g.data_offset_ <= file_size ? file_size - g.data_offset_ : 0;
  for (auto& info : g.tensors_) {
    if (info.offset % g.alignment_ != 0) {
      throw Error(cat(path, ": tensor '", info.name, "' offset ", info.offset,
                      " is not a multiple of the alignment ", g.alignment_));
    }
    if (info.offset > data_size || info.size_bytes > data_size - info.offset) {
      throw Error(cat(path, ": tensor '", info.name, "' data [", info.offset, ", +", info.size_bytes,
                      ") lies past the end of the data section (", data_size,
                      " bytes); the file is truncated or corrupt"));
    }
    info.offset += g.data_offset_;
  }
  check_no_overlap(g.tensors_, g.data_offset_, path);
  return g;
}

const GgufValue& GgufFile::value(const std::string& key) const {
  auto it = kv_.find(key);
  if (it == kv_.end()) {
    const std::string hint = closest_match(key, key_order_);
    throw Error(cat(path_, ": metadata key '", key, "' not found",
                    hint.empty() ? "" : cat("; did you mean '", hint, "'?")));
  }
  return it->second;
}

namespace {
[[noreturn]] void wrong_type(const std::string& path, const std::string& key, const char* expected,
                             const GgufValue& v) {
  throw Error(cat(path, ": metadata '", key, "' has type ", full_type_name(v), ", expected ", expected));
}
int64_t checked_int(const std::string& path, const std::string& key, GgufValueType t, int64_t i) {
  if (t == GgufValueType::UINT64 && i < 0) {
    throw Error(cat(path, ": metadata '", key, "' holds a uint64 above the int64 range"));
  }
  return i;
}
}  // namespace

std::string GgufFile::get_string(const std::string& key) const {
  const GgufValue& v = value(key);
  if (v.type != GgufValueType::STRING) wrong_type(path_, key, "string", v);
  return v.s;
}

int64_t GgufFile::get_int(const std::string& key) const {
  const GgufValue& v = value(key);
  if (!is_integer(v.type)) wrong_type(path_, key, "an integer", v);
  return checked_int(path_, key, v.type, v.i);
}

double GgufFile::get_float(const std::string& key) const {
  const GgufValue& v = value(key);
  if (is_float(v.type)) return v.f;
  if (is_integer(v.type)) return static_cast<double>(checked_int(path_, key, v.type, v.i));
  wrong_type(path_, key, "a float (or integer)", v);
}

bool GgufFile::get_bool(const std::string& key) const {
  const GgufValue& v = value(key);
  if (v.type != GgufValueType::BOOL) wrong_type(path_, key, "bool", v);
  return v.b;
}

std::vector<std::string> GgufFile::get_string_array(const std::string& key) const {
  const GgufValue& v = value(key);
  if (v.type != GgufValueType::ARRAY || v.elem_type != GgufValueType::STRING) {
    wrong_type(path_, key, "array<string>", v);
  }
  return v.strings;
}

std::vector<int64_t> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue& v = value(key);
  if (v.type != GgufValueType::ARRAY || !is_integer(v.elem_type)) {
    wrong_type(path_, key, "array of integers", v);
  }
  for (int64_t i : v.ints) checked_int(path_, key, v.elem_type, i);
  return v.ints;
}

std::vector<double> GgufFile::get_float_array(const std::string& key) const {
  const GgufValue& v = value(key);
  if (v.type == GgufValueType::ARRAY && is_float(v.elem_type)) return v.floats;
  if (v.type == GgufValueType::ARRAY && is_integer(v.elem_type)) {
    std::vector<double> out;
    out.reserve(v.ints.size());
    for (int64_t i : v.ints) out.push_back(static_cast<double>(checked_int(path_, key, v.elem_type, i)));
    return out;
  }
  wrong_type(path_, key, "array of floats (or integers)", v);
}

const GgufTensorInfo& GgufFile::tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  if (it == tensor_index_.end()) {
    std::vector<std::string> names;
    names.reserve(tensors_.size());
    for (const auto& t : tensors_) names.push_back(t.name);
    const std::string hint = closest_match(name, names);
    throw Error(cat(path_, ": no tensor named '", name, "' (", tensors_.size(), " tensors in the file)",
                    hint.empty() ? "" : cat("; did you mean '", hint, "'?")));
  }
  return tensors_[it->second];
}

const uint8_t* GgufFile::tensor_data(const std::string& name) const {
  return file_->data() + tensor(name).offset;
}

std::vector<float> GgufFile::dequantize(const std::string& name) const {
  const GgufTensorInfo& info = tensor(name);
  const GgmlTypeTraits traits = ggml_type_traits(static_cast<uint32_t>(info.type));
  if (!traits.dequantizable) {
    throw Error(cat(path_, ": tensor '", name, "' has type ", traits.name,
                    ", which this reader cannot dequantize (supported: F32, F16, BF16, Q4_0, Q4_1, "
                    "Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)"));
  }
  std::vector<float> out(static_cast<size_t>(info.numel()));
  if (!out.empty()) dequantize_row(info.type, file_->data() + info.offset, out.data(), info.numel());
  return out;
}

}  // namespace abq::io

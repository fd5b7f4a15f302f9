#include "framework/io/safetensors.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "framework/core/regular_file.h"
#include "framework/core/spellcheck.h"
#include "framework/io/float16.h"

namespace abq::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The reference implementation refuses headers above 100 MB; so do we, before allocating.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeRow {
  const char* name;
  SafetensorsDtype dtype;
  int64_t size;
};
constexpr DtypeRow kDtypes[] = {
    {"F64", SafetensorsDtype::F64, 8},         {"F32", SafetensorsDtype::F32, 4},
    {"F16", SafetensorsDtype::F16, 2},         {"BF16", SafetensorsDtype::BF16, 2},
    {"I64", SafetensorsDtype::I64, 8},         {"I32", SafetensorsDtype::I32, 4},
    {"I16", SafetensorsDtype::I16, 2},         {"I8", SafetensorsDtype::I8, 1},
    {"U8", SafetensorsDtype::U8, 1},           {"BOOL", SafetensorsDtype::BOOL, 1},
    {"F8_E4M3", SafetensorsDtype::F8_E4M3, 1}, {"F8_E5M2", SafetensorsDtype::F8_E5M2, 1},
};

std::string known_dtypes() {
  std::vector<std::string> names;
  for (const auto& d : kDtypes) names.push_back(d.name);
  return join(names);
}

// A JSON number that is a non-negative integer (as uint64).
bool as_u64(const json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer() && j.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(j.get<int64_t>());
    return true;
  }
  return false;
}

std::string read_text_file(const std::string& path) {
  require_regular_file(path, "safetensors index");  // a FIFO would block the read forever
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(cat("cannot open '", path, "'"));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

const char* safetensors_dtype_name(SafetensorsDtype dtype) {
  for (const auto& d : kDtypes) {
    if (d.dtype == dtype) return d.name;
  }
  return "?";
}

int64_t safetensors_dtype_size(SafetensorsDtype dtype) {
  for (const auto& d : kDtypes) {
    if (d.dtype == dtype) return d.size;
  }
  return 0;
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void SafetensorsCheckpoint::add_shard(const std::string& path, const std::vector<std::string>* expected) {
  auto file = std::make_shared<MappedFile>(MappedFile::open(path));
  const uint64_t size = file->size();
  if (size < 8) throw Error(cat(path, ": ", size, " bytes is too short for a safetensors file (8-byte header length)"));
  const uint64_t n = load_u64le(file->data());
  if (n > size - 8) {
    throw Error(cat(path, ": header length ", n, " runs past the end of the file (", size, " bytes)"));
  }
  if (n > kMaxHeaderBytes) throw Error(cat(path, ": header length ", n, " exceeds the ", kMaxHeaderBytes, " byte limit"));
  const uint64_t data_begin = 8 + n;
  const uint64_t data_size = size - data_begin;

  const auto* text = reinterpret_cast<const char*>(file->data() + 8);
  const json header = parse_bounded_json(text, text + n, path + ": header");
  if (!header.is_object()) throw Error(cat(path, ": header must be a JSON object, got ", header.type_name()));

  const size_t shard = shards_.size();
  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  std::vector<std::string> names_here;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& e = it.value();
    if (name == "__metadata__") {
      if (!e.is_object()) throw Error(cat(path, ": __metadata__ must be an object of strings"));
      if (shard == 0) {
        for (auto m = e.begin(); m != e.end(); ++m) {
          if (!m.value().is_string()) throw Error(cat(path, ": __metadata__ '", m.key(), "' must be a string"));
          metadata_[m.key()] = m.value().get<std::string>();
        }
      }
      continue;
    }
    const std::string where = cat(path, ": tensor '", name, "'");
    if (!e.is_object()) throw Error(cat(where, ": entry must be an object with dtype, shape, data_offsets"));
    auto dt = e.find("dtype");
    auto sh = e.find("shape");
    auto off = e.find("data_offsets");
    if (dt == e.end() || !dt->is_string()) throw Error(cat(where, ": missing or non-string 'dtype'"));
    if (sh == e.end() || !sh->is_array()) throw Error(cat(where, ": missing or non-array 'shape'"));
    if (off == e.end() || !off->is_array() || off->size() != 2) {
      throw Error(cat(where, ": 'data_offsets' must be an array [begin, end]"));
    }
    Entry entry{};
    entry.shard = shard;
    const std::string dtype_name = dt->get<std::string>();
    const DtypeRow* row = nullptr;
    for (const auto& d : kDtypes) {
      if (dtype_name == d.name) row = &d;
    }
    if (row == nullptr) throw Error(cat(where, ": unknown dtype '", dtype_name, "' (known: ", known_dtypes(), ")"));
    entry.dtype = row->dtype;
    uint64_t numel = 1;
    for (const json& d : *sh) {
      uint64_t v = 0;
      if (!as_u64(d, &v)) throw Error(cat(where, ": shape entries must be non-negative integers, got ", json_excerpt(d)));
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (v != 0 && numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / v)) {
        throw Error(cat(where, ": shape ", json_excerpt(*sh), " overflows"));
      }
      numel *= v;
      entry.shape.push_back(static_cast<int64_t>(v));
    }
    uint64_t begin = 0, end = 0;
    if (!as_u64((*off)[0], &begin) || !as_u64((*off)[1], &end) || end < begin) {
      throw Error(cat(where, ": data_offsets ", json_excerpt(*off), " must be non-negative integers with begin <= end"));
    }
    if (end > data_size) {
      throw Error(cat(where, ": data_offsets ", json_excerpt(*off), " run past the data buffer (", data_size,
                      " bytes); the file is truncated or corrupt"));
    }
    const uint64_t expected_bytes = numel * static_cast<uint64_t>(row->size);  // <= data_size checked below
    if (numel > data_size || end - begin != expected_bytes) {
      throw Error(cat(where, ": data_offsets ", json_excerpt(*off), " hold ", end - begin, " bytes but dtype ", row->name,
                      " x shape ", json_excerpt(*sh), " needs ", numel, " x ", row->size, " bytes"));
    }
    entry.begin = data_begin + begin;
    entry.size = end - begin;
    if (tensors_.count(name)) {
      throw Error(cat(where, ": also defined in ", shards_[tensors_.at(name).shard]->path()));
    }
    spans.push_back({begin, end, name});
    names_here.push_back(name);
    tensors_.emplace(name, std::move(entry));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t k = 1; k < spans.size(); ++k) {
    if (spans[k].begin < spans[k - 1].end) {
      throw Error(cat(path, ": tensors '", spans[k - 1].name, "' [", spans[k - 1].begin, ", ", spans[k - 1].end,
                      ") and '", spans[k].name, "' [", spans[k].begin, ", ", spans[k].end, ") overlap"));
    }
  }
  if (expected) {
    std::sort(names_here.begin(), names_here.end());
    for (const auto& name : *expected) {
      if (!std::binary_search(names_here.begin(), names_here.end(), name)) {
        throw Error(cat(path, ": tensor '", name, "' is listed for this shard in the index but is not in the file"));
      }
    }
  }
  shards_.push_back(std::move(file));
}

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::string& dir_or_file) {
  SafetensorsCheckpoint ck;
  ck.source_ = dir_or_file;
  try {
    std::error_code ec;
    fs::path p(dir_or_file);
    fs::path index;
    if (fs::is_directory(p, ec)) {
      if (fs::exists(p / "model.safetensors.index.json", ec)) {
        index = p / "model.safetensors.index.json";
      } else if (fs::exists(p / "model.safetensors", ec)) {
        p = p / "model.safetensors";
      } else {
        throw Error(cat(dir_or_file, ": directory has neither model.safetensors.index.json nor model.safetensors"));
      }
    } else if (p.extension() == ".json") {
      index = p;
    }
    if (index.empty()) {
      ck.add_shard(p.string(), nullptr);
      return ck;
    }

    const json j = parse_bounded_json(read_text_file(index.string()), index.string());
    auto wm = j.is_object() ? j.find("weight_map") : j.end();
    if (!j.is_object() || wm == j.end() || !wm->is_object()) {
      throw Error(cat(index.string(), ": expected an object with a \"weight_map\" object"));
    }
    std::map<std::string, std::vector<std::string>> by_shard;  // shard file -> tensor names
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      if (!it.value().is_string()) {
        throw Error(cat(index.string(), ": weight_map entry for tensor '", it.key(), "' must be a file name"));
      }
      by_shard[it.value().get<std::string>()].push_back(it.key());
    }
    for (auto& [shard, names] : by_shard) {
      const fs::path shard_path = index.parent_path() / shard;
      if (!fs::is_regular_file(shard_path, ec)) {
        throw Error(cat(index.string(), ": shard '", shard_path.string(), "' (holding tensor '", names.front(),
                        "' and ", names.size() - 1, " more) is missing"));
      }
      std::sort(names.begin(), names.end());
      ck.add_shard(shard_path.string(), &names);
    }
    return ck;
  } catch (Error& e) {
    e.with_context(cat("while opening safetensors checkpoint ", dir_or_file));
    throw;
  }
}

std::vector<std::string> SafetensorsCheckpoint::tensor_names() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& kv : tensors_) names.push_back(kv.first);
  return names;
}

TensorView SafetensorsCheckpoint::view(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    const std::string hint = closest_match(name, tensor_names());
    throw Error(cat(source_, ": no tensor named '", name, "' (", tensors_.size(), " tensors)",
                    hint.empty() ? "" : cat("; did you mean '", hint, "'?")));
  }
  const Entry& e = it->second;
  TensorView v;
  v.name = name;
  v.file = shards_[e.shard]->path();
  v.dtype = e.dtype;
  v.shape = e.shape;
  v.data = shards_[e.shard]->data() + e.begin;
  v.size_bytes = e.size;
  return v;
}

void SafetensorsCheckpoint::release(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) view(name);  // throws the "no tensor named" error
  const Entry& e = it->second;
  shards_[e.shard]->release_pages(e.begin, e.size);
}

void SafetensorsCheckpoint::release_shard(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) view(name);  // throws the "no tensor named" error
  const MappedFile& file = *shards_[it->second.shard];
  file.release_pages(0, file.size());
}

std::vector<float> SafetensorsCheckpoint::read_f32(const std::string& name) const {
  const TensorView v = view(name);
  const size_t n = static_cast<size_t>(v.numel());
  std::vector<float> out(n);
  switch (v.dtype) {
    case SafetensorsDtype::F32:
      for (size_t i = 0; i < n; ++i) out[i] = load_f32le(v.data + 4 * i);
      break;
    case SafetensorsDtype::F16:
      for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32(load_u16le(v.data + 2 * i));
      break;
    case SafetensorsDtype::BF16:
      for (size_t i = 0; i < n; ++i) out[i] = bf16_to_f32(load_u16le(v.data + 2 * i));
      break;
    default:
      throw Error(cat(v.file, ": tensor '", name, "' has dtype ", safetensors_dtype_name(v.dtype),
                      "; read_f32 supports F32, F16 and BF16 (use view() for raw bytes)"));
  }
  return out;
}

}  // namespace abq::io

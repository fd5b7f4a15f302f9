#include "framework/pipeline/packed_checkpoint.h"

#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "framework/io/safetensors.h"
#include "framework/packed/kernel_format.h"
#include "framework/packed/packed_gemm.h"
#include "framework/packed/packed_linear.h"
#include "framework/quant/quant_spec_json.h"

namespace abq::pipeline {
namespace {

using json = nlohmann::ordered_json;

const char* const kSuffixes[] = {".qweight", ".scales", ".qzeros"};

// "layers.3.mlp.down_proj" (the site name without ".weight").
std::string linear_key(int64_t layer, model::LinearKind kind) {
  const std::string site = model::site_name(layer, model::weight_site(kind));
  return site.substr(0, site.rfind('.'));
}

template <typename T>
io::TensorToWrite raw(const std::string& name, io::SafetensorsDtype dtype, std::vector<int64_t> shape,
                      const std::vector<T>& values) {
  io::TensorToWrite t{name, dtype, std::move(shape), {}};
  t.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

const packed::PackedLinearKernel* packed_of(const model::Linear& linear) {
  if (linear.weight.defined() || !linear.packed) return nullptr;
  return dynamic_cast<const packed::PackedLinearKernel*>(linear.packed.get());
}

template <typename T>
std::vector<T> read_raw(const io::SafetensorsCheckpoint& file, const std::string& name, io::SafetensorsDtype dtype,
                        int64_t count) {
  const io::TensorView v = file.view(name);
  if (v.dtype != dtype || v.numel() != count)
    throw Error(cat("tensor '", name, "' in ", v.file, ": expected ", io::safetensors_dtype_name(dtype), " with ", count,
                    " elements, got ", io::safetensors_dtype_name(v.dtype), " with ", v.numel()));
  std::vector<T> out(static_cast<size_t>(count));
  if (count) std::memcpy(out.data(), v.data, size_t(count) * sizeof(T));
  return out;
}

abq_path layout_from_name(const std::string& name) {
  for (abq_path p : {ABQ_PATH_BITPLANE, ABQ_PATH_INT8_UNPACK, ABQ_PATH_WEIGHT_ONLY})
    if (name == abq_path_name(p)) return p;
  throw Error(cat("layout '", name, "' is not bitplane, int8_unpack or weight_only"));
}

// One linear from its manifest entry and tensors.
packed::PackedWeight read_linear(const io::SafetensorsCheckpoint& file, const std::string& key, const nlohmann::json& entry,
                                 int64_t out, int64_t in) {
  packed::PackedWeight w;
  w.spec = quant::spec_from_json(entry.at("spec"));
  w.format = packed::weight_format(w.spec);
  const nlohmann::json& f = entry.at("kernel_format");
  if (f.at("bits").get<int>() != w.format.bits || f.at("levels").get<int>() != w.format.levels ||
      f.at("signed").get<bool>() != (w.format.is_signed != 0) || f.at("group_size").get<int>() != w.format.group_size)
    throw Error(cat("kernel_format ", f.dump(), " is not the format of its spec ", quant::describe(w.spec, "w"), " (",
                    packed::describe(w.format), ")"));
  w.layout = layout_from_name(entry.at("layout").get<std::string>());
  w.n = entry.at("n").get<int64_t>();
  w.k = entry.at("k").get<int64_t>();
  w.k_padded = entry.at("k_padded").get<int64_t>();
  w.padding_exact = entry.at("padding_exact").get<bool>();
  if (w.n != out || w.k != in || w.k_padded != packed::padded_k(w.k))
    throw Error(cat("shape n=", w.n, " k=", w.k, " k_padded=", w.k_padded, " does not fit the model's [", out, ", ", in,
                    "] padded to ", packed::padded_k(in)));
  const std::string p = "model." + key;
  w.codes = read_raw<uint32_t>(file, p + ".qweight", io::SafetensorsDtype::I32, w.n * w.k_padded * w.format.bits / 32);
  w.scales = read_raw<float>(file, p + ".scales", io::SafetensorsDtype::F32, w.n * w.groups());
  if (!w.format.is_signed) w.zeros = read_raw<int32_t>(file, p + ".qzeros", io::SafetensorsDtype::I32, w.n * w.groups());
  return w;
}

std::pair<int64_t, int64_t> linear_shape(const model::LlamaConfig& c, model::LinearKind kind) {
  const int64_t C = c.hidden_size, F = c.intermediate_size, HD = c.num_heads * c.head_dim, KD = c.num_kv_heads * c.head_dim;
  switch (kind) {
    case model::LinearKind::q_proj: return {HD, C};
    case model::LinearKind::k_proj:
    case model::LinearKind::v_proj: return {KD, C};
    case model::LinearKind::o_proj: return {C, HD};
    case model::LinearKind::gate_proj:
    case model::LinearKind::up_proj: return {F, C};
    case model::LinearKind::down_proj: return {C, F};
  }
  return {0, 0};
}

}  // namespace

bool has_packed_linears(const model::LlamaModel& m) {
  if (m.streamed()) return false;
  for (const auto& b : m.weights().layers)
    for (model::LinearKind kind : model::all_linear_kinds())
      if (packed_of(b.linear(kind))) return true;
  return false;
}

std::string packed_tensors(const model::LlamaModel& m, std::vector<io::TensorToWrite>& tensors) {
  json linears = json::object();
  for (int64_t i = 0; i < m.config().num_layers; ++i)
    for (model::LinearKind kind : model::all_linear_kinds()) {
      const auto* lin = packed_of(m.weights().layers[size_t(i)].linear(kind));
      if (!lin) continue;
      const packed::PackedWeight& w = lin->weight();
      const std::string key = linear_key(i, kind), p = "model." + key;
      tensors.push_back(raw(p + ".qweight", io::SafetensorsDtype::I32, {int64_t(w.codes.size())}, w.codes));
      tensors.push_back(raw(p + ".scales", io::SafetensorsDtype::F32, {w.n, w.groups()}, w.scales));
      if (!w.zeros.empty()) tensors.push_back(raw(p + ".qzeros", io::SafetensorsDtype::I32, {w.n, w.groups()}, w.zeros));
      linears[key] = {{"spec", quant::spec_to_json(w.spec)},
                      {"kernel_format", {{"bits", w.format.bits}, {"levels", w.format.levels},
                                         {"signed", w.format.is_signed != 0}, {"group_size", w.format.group_size}}},
                      {"layout", abq_path_name(w.layout)},
                      {"n", w.n}, {"k", w.k}, {"k_padded", w.k_padded}, {"padding_exact", w.padding_exact},
                      {"activations", quant::spec_to_json(lin->activations())}};
    }
  const json manifest = {{"format", "abq_packed"}, {"version", 1}, {"backend", packed::packed_gemm_backend()},
                         {"linears", linears}};
  return manifest.dump(2);
}

bool is_packed_tensor_name(const std::string& name) {
  for (const char* suffix : kSuffixes) {
    const size_t n = std::strlen(suffix);
    if (name.size() > n && name.compare(name.size() - n, n, suffix) == 0) return true;
  }
  return false;
}

bool is_packed_folder(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_regular_file(dir + "/" + kPackedManifest, ec);
}

void read_packed_linears(const std::string& dir, const model::LlamaConfig& config, model::LlamaWeights& weights) {
  const std::string path = dir + "/" + kPackedManifest;
  const nlohmann::json j = read_bounded_json_file(path, "packed checkpoint manifest");
  if (j.value("format", "") != "abq_packed" || j.value("version", 0) != 1)
    throw Error(cat(path, ": expected \"format\": \"abq_packed\" and \"version\": 1"));
  const auto file = io::SafetensorsCheckpoint::open(dir);
  size_t found = 0;
  for (int64_t i = 0; i < config.num_layers; ++i)
    for (model::LinearKind kind : model::all_linear_kinds()) {
      const std::string key = linear_key(i, kind);
      if (!j.at("linears").contains(key)) continue;
      const auto [out, in] = linear_shape(config, kind);
      try {
        const nlohmann::json& entry = j.at("linears").at(key);
        auto w = read_linear(file, key, entry, out, in);
        auto& linear = weights.layers[size_t(i)].linear(kind);
        linear.packed = packed::make_packed_linear(std::move(w), quant::spec_from_json(entry.at("activations")));
        ++found;
      } catch (const nlohmann::json::exception& e) {
        throw Error(cat(path, ": linears.", key, ": ", e.what()));
      } catch (Error& e) {
        e.with_context(cat(path, ": linears.", key));
        throw;
      }
    }
  if (found != j.at("linears").size())
    throw Error(cat(path, ": ", j.at("linears").size() - found, " of its linears name no linear of this model (",
                    config.num_layers, " layers)"));
}

}  // namespace abq::pipeline

#include "framework/pipeline/gguf_export.h"

#include <cmath>
#include <cstring>
#include <set>

#include "framework/core/error.h"
#include "framework/io/float16.h"
#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"
#include "framework/io/gguf_writer.h"
#include "framework/model/site_names.h"

namespace abq::pipeline {
namespace {

constexpr int64_t kGgufGroup = 32;  // elements per Q4_0 / Q4_1 / Q8_0 block

torch::Tensor host_f32(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat32).contiguous(); }

// llama.cpp's tensor name of a linear.
const char* gguf_linear_name(model::LinearKind kind) {
  switch (kind) {
    case model::LinearKind::q_proj: return "attn_q";
    case model::LinearKind::k_proj: return "attn_k";
    case model::LinearKind::v_proj: return "attn_v";
    case model::LinearKind::o_proj: return "attn_output";
    case model::LinearKind::gate_proj: return "ffn_gate";
    case model::LinearKind::up_proj: return "ffn_up";
    case model::LinearKind::down_proj: return "ffn_down";
  }
  throw std::logic_error("gguf_linear_name: unknown linear kind");
}

// An fp tensor [rows, cols] (or [cols]) as F32 or F16, ggml shape order.
io::GgufTensorToWrite fp_tensor(const std::string& name, const torch::Tensor& t, bool half) {
  const auto c = host_f32(t);
  io::GgufTensorToWrite out{name, std::vector<int64_t>(c.sizes().rbegin(), c.sizes().rend()),
                            half ? io::GgmlType::F16 : io::GgmlType::F32, {}};
  const float* p = c.data_ptr<float>();
  const int64_t n = c.numel();
  if (half) {
    out.bytes.resize(size_t(n) * 2);
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t h = io::f32_to_f16(p[i]);
      out.bytes[size_t(2 * i)] = uint8_t(h);
      out.bytes[size_t(2 * i + 1)] = uint8_t(h >> 8);
    }
  } else {
    out.bytes.resize(size_t(n) * 4);
    std::memcpy(out.bytes.data(), p, out.bytes.size());  // little-endian hosts only (as the readers)
  }
  return out;
}

// Q / K rows interleaved per head as llama.cpp stores them: row h*D + 2i + s holds HF row
// h*D + s*D/2 + i. Moving whole rows moves their blocks with them.
std::vector<uint8_t> permute_rows(const std::vector<uint8_t>& rows, int64_t n_rows, int64_t n_head) {
  const size_t row_bytes = rows.size() / size_t(n_rows);
  const int64_t head = n_rows / n_head, half = head / 2;
  std::vector<uint8_t> out(rows.size());
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t s = 0; s < 2; ++s)
        std::memcpy(out.data() + size_t(h * head + 2 * i + s) * row_bytes,
                    rows.data() + size_t(h * head + s * half + i) * row_bytes, row_bytes);
  return out;
}

// The llama.* hyperparameters as llama.cpp's loader (and io/gguf_config.h) reads them.
std::vector<io::GgufKeyValue> hyperparameters(const model::LlamaConfig& c) {
  const std::string p = "llama.";
  std::vector<io::GgufKeyValue> kv = {
      {"general.architecture", io::gguf_string("llama")},
      {"general.quantization_version", io::gguf_u32(2)},
      {p + "context_length", io::gguf_u32(uint32_t(c.max_position))},
      {p + "embedding_length", io::gguf_u32(uint32_t(c.hidden_size))},
      {p + "block_count", io::gguf_u32(uint32_t(c.num_layers))},
      {p + "feed_forward_length", io::gguf_u32(uint32_t(c.intermediate_size))},
      {p + "attention.head_count", io::gguf_u32(uint32_t(c.num_heads))},
      {p + "attention.head_count_kv", io::gguf_u32(uint32_t(c.num_kv_heads))},
      {p + "attention.key_length", io::gguf_u32(uint32_t(c.head_dim))},
      {p + "attention.value_length", io::gguf_u32(uint32_t(c.head_dim))},
      {p + "rope.dimension_count", io::gguf_u32(uint32_t(c.head_dim))},
      {p + "rope.freq_base", io::gguf_f32(float(c.rope_theta))},
      {p + "attention.layer_norm_rms_epsilon", io::gguf_f32(float(c.rms_eps))},
      {p + "vocab_size", io::gguf_u32(uint32_t(c.vocab_size))}};
  if (c.bos_token_id >= 0) kv.push_back({"tokenizer.ggml.bos_token_id", io::gguf_u32(uint32_t(c.bos_token_id))});
  if (c.eos_token_id >= 0) kv.push_back({"tokenizer.ggml.eos_token_id", io::gguf_u32(uint32_t(c.eos_token_id))});
  return kv;
}

// The source file's other keys (tokenizer, general.name, ...), after the hyperparameters.
void copy_source_metadata(const std::string& source_gguf, std::vector<io::GgufKeyValue>& kv) {
  if (source_gguf.empty()) return;
  const auto source = io::GgufFile::open(source_gguf);
  std::set<std::string> written;
  for (const auto& k : kv) written.insert(k.key);
  const std::string arch = source.has("general.architecture") ? source.get_string("general.architecture") : "";
  for (const auto& key : source.keys()) {
    const bool hyper = !arch.empty() && key.rfind(arch + ".", 0) == 0;
    if (hyper || written.count(key) || key == "general.alignment" || key == "general.file_type") continue;
    kv.push_back({key, source.value(key)});
  }
}

void check_exportable(const model::LlamaModel& m) {
  const auto& c = m.config();
  if (c.model_type != "llama" && c.model_type != "mistral")
    throw Error(cat("export (gguf): model_type '", c.model_type, "' is not written (llama and mistral are: llama.cpp's "
                    "llama architecture)"));
  if (c.attention_bias) throw Error("export (gguf): attention biases are not written for the llama architecture");
  if (!(c.rope_scaling.type.empty() || c.rope_scaling.type == "none") || !c.rope_scaling.freq_divisors.empty())
    throw Error(cat("export (gguf): rope scaling '", c.rope_scaling.type, "' is not written"));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const auto& b = m.weights().layers[size_t(i)];
    if (b.attn_input_transform.defined() || b.mlp_input_transform.defined() || b.down_input_transform.defined() ||
        b.attn_input_bias.defined() || b.mlp_input_bias.defined())
      throw Error(cat("export (gguf): layer ", i, " has online transforms or norm input biases, which a llama GGUF "
                      "cannot hold"));
  }
}

// One linear: its GGUF blocks when quantized (refused without them), else its fp weight.
io::GgufTensorToWrite linear_tensor(const model::LlamaModel& m, int64_t layer, model::LinearKind kind,
                                    const std::map<std::string, quant::QuantSpec>& weights, bool half) {
  const auto& lin = m.weights().layers[size_t(layer)].linear(kind);
  const std::string site = model::site_name(layer, model::weight_site(kind));
  const std::string name = cat("blk.", layer, ".", gguf_linear_name(kind), ".weight");
  const bool q = kind == model::LinearKind::q_proj, k = kind == model::LinearKind::k_proj;
  const int64_t heads = q ? m.config().num_heads : m.config().num_kv_heads;
  const auto spec = weights.find(site);
  if (spec == weights.end() || !spec->second.enabled()) {
    auto t = fp_tensor(name, lin.weight, half);
    if (q || k) t.bytes = permute_rows(t.bytes, t.shape[1], heads);
    return t;
  }
  const auto* blocks = dynamic_cast<const GgufBlockLinear*>(lin.packed.get());
  if (!blocks) {
    const std::string why = gguf_type_problem(spec->second, lin.weight.size(0), lin.weight.size(1));
    throw Error(cat("export (gguf): ", site, " (", quant::describe(spec->second, "w"), ") ",
                    why.empty() ? "holds no integer codes (its weight quantizer keeps none)" : "has no GGUF type: " + why));
  }
  io::GgufTensorToWrite t{name, {blocks->in_features(), blocks->out_features()}, blocks->type(), blocks->blocks()};
  if (q || k) t.bytes = permute_rows(t.bytes, blocks->out_features(), heads);
  return t;
}

}  // namespace

std::string gguf_type_problem(const quant::QuantSpec& spec, int64_t n, int64_t k) {
  const std::string supported = "GGUF blocks hold w4g32 (Q4_0 symmetric, Q4_1 asymmetric) and symmetric w8g32 (Q8_0)";
  if (!spec.enabled()) return "not quantized";
  const bool g32 = spec.granularity == quant::Granularity::per_group && spec.group_size == kGgufGroup;
  const bool plain = spec.levels() == (int64_t(1) << spec.bits);  // no bit balance
  if (!g32 || !plain || !(spec.bits == 4 || (spec.bits == 8 && spec.symmetric))) return supported;
  if (k % kGgufGroup != 0) return cat("K ", k, " is not a multiple of 32 (the last group is shorter than a block)");
  if (n < 1) return cat("shape [", n, ", ", k, "] is empty");
  return "";
}

io::GgmlType gguf_type(const quant::QuantSpec& spec) {
  const std::string problem = gguf_type_problem(spec, 1, kGgufGroup);
  if (!problem.empty()) throw Error(cat("weight spec ", quant::describe(spec, "w"), " has no GGUF type: ", problem));
  if (spec.bits == 8) return io::GgmlType::Q8_0;
  return spec.symmetric ? io::GgmlType::Q4_0 : io::GgmlType::Q4_1;
}

GgufBlockLinear::GgufBlockLinear(quant::QuantSpec spec, io::GgmlType type, int64_t n, int64_t k,
                                 std::vector<uint8_t> blocks)
    : spec_(spec), type_(type), n_(n), k_(k), blocks_(std::move(blocks)) {
  const auto traits = io::ggml_type_traits(uint32_t(type));
  ABQ_ASSERT(int64_t(blocks_.size()) == n * k / traits.block_elems * traits.block_bytes, "GGUF blocks of [", n, ", ", k,
             "] hold ", blocks_.size(), " bytes");
}

torch::Tensor GgufBlockLinear::forward(const torch::Tensor& x, const torch::Tensor& bias) const {
  const auto w = dequantized().to(x.device(), x.scalar_type());
  return torch::linear(x, w, bias.defined() ? bias.to(x.scalar_type()) : bias);
}

torch::Tensor GgufBlockLinear::dequantized() const {
  auto w = torch::empty({n_, k_}, torch::kFloat32);
  io::dequantize_row(type_, blocks_.data(), w.data_ptr<float>(), n_ * k_);
  return w;
}

std::string GgufBlockLinear::describe() const {
  return cat(quant::describe(spec_, "w"), " as GGUF ", io::ggml_type_name(type_), " blocks, K ", k_);
}

std::shared_ptr<const GgufBlockLinear> gguf_block_linear(const quant::QuantSpec& spec, const torch::Tensor& codes,
                                                         const torch::Tensor& scale, const torch::Tensor& zero) {
  ABQ_ASSERT(codes.defined() && codes.dim() == 2, "gguf_block_linear needs codes [out, in]");
  const int64_t n = codes.size(0), k = codes.size(1);
  const std::string problem = gguf_type_problem(spec, n, k);
  if (!problem.empty()) throw Error(cat("weight spec ", quant::describe(spec, "w"), " on [", n, ", ", k, "]: ", problem));
  const auto c = codes.detach().to(torch::kCPU, torch::kInt32).contiguous();
  const auto s = host_f32(scale).reshape({-1});
  const auto z = zero.defined() ? host_f32(zero).reshape({-1}) : torch::zeros_like(s);
  const int64_t blocks = n * k / kGgufGroup;
  if (s.numel() != blocks || z.numel() != blocks)
    throw Error(cat("gguf_block_linear: ", quant::describe(spec, "w"), " on [", n, ", ", k, "] needs ", blocks,
                    " scales and zero-points, got ", s.numel(), " and ", z.numel()));
  std::vector<uint16_t> d(static_cast<size_t>(blocks)), m(static_cast<size_t>(blocks));
  for (int64_t b = 0; b < blocks; ++b) {
    const float delta = s.data_ptr<float>()[b];
    d[size_t(b)] = io::f32_to_f16(delta);
    m[size_t(b)] = io::f32_to_f16(-z.data_ptr<float>()[b] * delta);  // x̂ = (q - z)·Δ = Δ·q + (-z·Δ)
  }
  const io::GgmlType type = gguf_type(spec);
  return std::make_shared<const GgufBlockLinear>(
      spec, type, n, k, io::encode_gguf_blocks(type, c.data_ptr<int32_t>(), d.data(), m.data(), n * k));
}

void export_gguf(const model::LlamaModel& m, const std::map<std::string, quant::QuantSpec>& weights,
                 const std::string& source_gguf, const std::string& path, const std::string& dtype) {
  if (dtype != "float32" && dtype != "float16")
    throw ConfigError(cat("export dtype must be float32 or float16, got '", dtype, "'"));
  if (m.streamed()) throw Error(cat("export (gguf): ", model::kStreamedRefusal));
  check_exportable(m);
  const bool half = dtype == "float16";
  const auto& w = m.weights();
  std::vector<io::GgufKeyValue> kv = hyperparameters(m.config());
  copy_source_metadata(source_gguf, kv);
  std::vector<io::GgufTensorToWrite> tensors;
  tensors.push_back(fp_tensor("token_embd.weight", w.embed_tokens, half));
  for (int64_t i = 0; i < m.config().num_layers; ++i) {
    const auto& b = w.layers[size_t(i)];
    tensors.push_back(fp_tensor(cat("blk.", i, ".attn_norm.weight"), b.input_norm, false));
    tensors.push_back(fp_tensor(cat("blk.", i, ".ffn_norm.weight"), b.post_attention_norm, false));
    for (model::LinearKind kind : model::all_linear_kinds()) tensors.push_back(linear_tensor(m, i, kind, weights, half));
  }
  tensors.push_back(fp_tensor("output_norm.weight", w.norm, false));
  if (!m.config().tie_embeddings) tensors.push_back(fp_tensor("output.weight", w.lm_head, half));
  write_gguf(path, kv, tensors);
}

bool is_gguf_export_path(const std::string& path) {
  const std::string ext = ".gguf";
  return path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
}

double adopt_gguf_weights(model::LlamaModel& m) {
  double largest = 0;
  for (auto& b : m.weights().layers)
    for (model::LinearKind kind : model::all_linear_kinds()) {
      auto& lin = b.linear(kind);
      const auto* blocks = dynamic_cast<const GgufBlockLinear*>(lin.packed.get());
      if (!blocks || !lin.weight.defined()) continue;
      const auto exported = blocks->dequantized().to(lin.weight.device(), lin.weight.scalar_type());
      largest = std::max(largest, (exported - lin.weight).abs().max().item<double>());
      lin.weight = exported;
    }
  return largest;
}

}  // namespace abq::pipeline

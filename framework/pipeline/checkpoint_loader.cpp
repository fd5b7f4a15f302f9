#include "framework/pipeline/checkpoint_loader.h"

#include "framework/core/error.h"
#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"
#include "framework/io/safetensors.h"

namespace abq::pipeline {
namespace {

// The tensor slot an HF name refers to, or nullptr for names the model does not use
// (e.g. rotary_emb.inv_freq in old checkpoints).
// With tied embeddings lm_head stays undefined: the model shares embed_tokens' storage.
torch::Tensor* slot(model::LlamaWeights& w, const std::string& name, const model::LlamaConfig& config) {
  const int64_t num_layers = config.num_layers;
  if (name == "model.embed_tokens.weight") return &w.embed_tokens;
  if (name == "model.norm.weight") return &w.norm;
  if (name == "lm_head.weight") return config.tie_embeddings ? nullptr : &w.lm_head;
  const std::string prefix = "model.layers.";
  if (name.rfind(prefix, 0) != 0) return nullptr;
  size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos) return nullptr;
  int64_t layer = std::stoll(name.substr(prefix.size(), dot - prefix.size()));
  if (layer < 0 || layer >= num_layers)
    throw Error(cat("tensor '", name, "' names layer ", layer, " but the model has ", num_layers, " layers"));
  auto& b = w.layers[size_t(layer)];
  std::string rest = name.substr(dot + 1);
  static const std::pair<const char*, model::Linear model::DecoderBlock::*> linears[] = {
      {"self_attn.q_proj", &model::DecoderBlock::q_proj}, {"self_attn.k_proj", &model::DecoderBlock::k_proj},
      {"self_attn.v_proj", &model::DecoderBlock::v_proj}, {"self_attn.o_proj", &model::DecoderBlock::o_proj},
      {"mlp.gate_proj", &model::DecoderBlock::gate_proj}, {"mlp.up_proj", &model::DecoderBlock::up_proj},
      {"mlp.down_proj", &model::DecoderBlock::down_proj},
  };
  for (const auto& [linear_name, member] : linears) {
    std::string base = linear_name;
    if (rest == base + ".weight") return &(b.*member).weight;
    if (rest == base + ".bias") return &(b.*member).bias;
  }
  if (rest == "input_layernorm.weight") return &b.input_norm;
  if (rest == "post_attention_layernorm.weight") return &b.post_attention_norm;
  return nullptr;
}

torch::Tensor from_floats(std::vector<float> values, std::vector<int64_t> shape, torch::ScalarType dtype) {
  auto owned = std::make_shared<std::vector<float>>(std::move(values));
  auto t = torch::from_blob(owned->data(), shape, [owned](void*) {}, torch::kFloat32);
  return dtype == torch::kFloat32 ? t.clone() : t.to(dtype);
}

model::LlamaWeights empty_weights(const model::LlamaConfig& config) {
  model::LlamaWeights w;
  w.layers.resize(size_t(config.num_layers));
  return w;
}

}  // namespace

model::LlamaWeights weights_from_gguf(const io::GgufFile& file, const model::LlamaConfig& config,
                                      torch::ScalarType dtype) {
  auto w = empty_weights(config);
  for (const auto& info : file.tensors()) {
    std::string hf = io::hf_tensor_name(info.name);
    torch::Tensor* target = slot(w, hf, config);
    if (!target) continue;
    // ggml lists ne[0] (the contiguous row length) first; torch wants it last.
    std::vector<int64_t> shape(info.shape.rbegin(), info.shape.rend());
    std::vector<float> values = file.dequantize(info.name);
    bool is_q = hf.find("self_attn.q_proj") != std::string::npos;
    bool is_k = hf.find("self_attn.k_proj") != std::string::npos;
    if (is_q || is_k) {
      int64_t rows = shape[0];
      int64_t cols = shape.size() > 1 ? shape[1] : 1;
      values = io::unpermute_qk_rows(values, rows, cols, is_q ? config.num_heads : config.num_kv_heads);
    }
    try {
      *target = from_floats(std::move(values), shape, dtype);
    } catch (const c10::Error& e) {
      throw Error(cat("tensor '", info.name, "' in '", file.path(), "' could not be loaded: ", e.what_without_backtrace()));
    }
  }
  return w;
}

model::LlamaWeights weights_from_safetensors(const std::string& path, const model::LlamaConfig& config,
                                             torch::ScalarType dtype) {
  auto checkpoint = io::SafetensorsCheckpoint::open(path);
  auto w = empty_weights(config);
  for (const auto& name : checkpoint.tensor_names()) {
    torch::Tensor* target = slot(w, name, config);
    if (!target) continue;
    auto view = checkpoint.view(name);
    *target = from_floats(checkpoint.read_f32(name), view.shape, dtype);
  }
  return w;
}

}  // namespace abq::pipeline

#include "framework/pipeline/checkpoint_loader.h"

#include <memory>
#include <set>

#include "framework/core/error.h"
#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"
#include "framework/io/safetensors.h"

namespace abq::pipeline {
namespace {

// "model.layers.<i>.<rest>" -> i (checked against the config) and rest; -1 for other names.
int64_t layer_of(const std::string& name, const model::LlamaConfig& config, std::string* rest) {
  const std::string prefix = "model.layers.";
  if (name.rfind(prefix, 0) != 0) return -1;
  size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos) return -1;
  int64_t layer = std::stoll(name.substr(prefix.size(), dot - prefix.size()));
  if (layer < 0 || layer >= config.num_layers)
    throw Error(cat("tensor '", name, "' names layer ", layer, " but the model has ", config.num_layers, " layers"));
  *rest = name.substr(dot + 1);
  return layer;
}

// The tensor slot of a block a name's tail ("mlp.down_proj.weight") refers to, or nullptr.
torch::Tensor* block_slot(model::DecoderBlock& b, const std::string& rest) {
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

// The tensor slot an HF name refers to, or nullptr for names the model does not use
// (e.g. rotary_emb.inv_freq in old checkpoints). `w.layers` may be empty only when the name is
// not a layer tensor.
// With tied embeddings lm_head stays undefined: the model shares embed_tokens' storage.
torch::Tensor* slot(model::LlamaWeights& w, const std::string& name, const model::LlamaConfig& config) {
  if (name == "model.embed_tokens.weight") return &w.embed_tokens;
  if (name == "model.norm.weight") return &w.norm;
  if (name == "lm_head.weight") return config.tie_embeddings ? nullptr : &w.lm_head;
  std::string rest;
  const int64_t layer = layer_of(name, config, &rest);
  return layer < 0 ? nullptr : block_slot(w.layers[size_t(layer)], rest);
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

// What a streamed model reads per layer: the checkpoint and each layer's tensor names.
struct BlockTensor {
  std::string name;  // model.layers.3.mlp.down_proj.weight
  std::string rest;  // mlp.down_proj.weight
};
struct StreamedSafetensors {
  std::string path;
  io::SafetensorsCheckpoint checkpoint;
  std::vector<std::vector<BlockTensor>> layer_tensors;  // [num_layers]
  torch::ScalarType dtype;
};

model::DecoderBlock load_streamed_block(const StreamedSafetensors& s, int64_t layer) {
  model::DecoderBlock block;
  try {
    for (const auto& t : s.layer_tensors[size_t(layer)])
      *block_slot(block, t.rest) = from_floats(s.checkpoint.read_f32(t.name), s.checkpoint.view(t.name).shape, s.dtype);
  } catch (Error& e) {
    e.with_context(cat("while reading decoder block ", layer, " of the streamed checkpoint ", s.path));
    throw;
  }
  return block;
}

// Whole shards, not just the block's bytes: faulting the block in may have mapped page-cache
// folios that spill into neighbouring blocks, which would otherwise stay counted in RSS.
void release_streamed_block(const StreamedSafetensors& s, int64_t layer) {
  std::set<std::string> files;
  for (const auto& t : s.layer_tensors[size_t(layer)])
    if (files.insert(s.checkpoint.view(t.name).file).second) s.checkpoint.release_shard(t.name);
}

}  // namespace

model::LlamaWeights weights_from_gguf(const io::GgufFile& file, const model::LlamaConfig& config,
                                      torch::ScalarType dtype) {
  auto w = empty_weights(config);
  for (const auto& info : file.tensors()) {
    if (info.name == "rope_freqs.weight") continue;  // a rope parameter, read by llama_config_from_gguf
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

StreamedWeights streamed_weights_from_safetensors(const std::string& path, const model::LlamaConfig& config,
                                                 torch::ScalarType dtype) {
  auto s = std::make_shared<StreamedSafetensors>(
      StreamedSafetensors{path, io::SafetensorsCheckpoint::open(path), {}, dtype});
  s->layer_tensors.resize(size_t(config.num_layers));
  StreamedWeights out;
  model::DecoderBlock probe;  // only asked which names are block tensors
  for (const auto& name : s->checkpoint.tensor_names()) {
    std::string rest;
    const int64_t layer = layer_of(name, config, &rest);
    if (layer >= 0) {
      if (block_slot(probe, rest)) s->layer_tensors[size_t(layer)].push_back({name, rest});
      continue;
    }
    torch::Tensor* target = slot(out.resident, name, config);
    if (!target) continue;
    *target = from_floats(s->checkpoint.read_f32(name), s->checkpoint.view(name).shape, dtype);
    s->checkpoint.release(name);  // the converted copy is what stays resident
  }
  for (int64_t layer = 0; layer < config.num_layers; ++layer)
    if (s->layer_tensors[size_t(layer)].empty())
      throw Error(cat(path, ": no tensors for decoder layer ", layer, " (model.layers.", layer,
                      ".*); config.json says num_hidden_layers = ", config.num_layers));
  out.blocks.load = [s](int64_t layer) { return load_streamed_block(*s, layer); };
  out.blocks.release = [s](int64_t layer) { release_streamed_block(*s, layer); };
  return out;
}

}  // namespace abq::pipeline

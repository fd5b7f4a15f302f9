#include "framework/pipeline/checkpoint_loader.h"

#include <algorithm>
#include <memory>
#include <set>

#include "framework/core/error.h"
#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"
#include "framework/io/safetensors.h"

namespace abq::pipeline {
namespace {

constexpr const char* kLayerPrefix = "model.layers.";

// The digits of a layer index: canonical decimal only ("1", "17"; not "01", "1e0", "+1", "x"), so
// two spellings can never name one layer. -1 when `text` is not such a number.
int64_t parse_layer_index(const std::string& text) {
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) return -1;
  if (text.size() > 1 && text[0] == '0') return -1;
  return std::stoll(text);  // at most 9 digits: always in range
}

// "model.layers.<i>.<rest>" -> i (checked against the config) and rest; -1 for names outside
// model.layers. `file` names the checkpoint in errors.
int64_t layer_of(const std::string& name, const model::LlamaConfig& config, std::string* rest, const std::string& file) {
  const std::string prefix = kLayerPrefix;
  if (name.rfind(prefix, 0) != 0) return -1;
  const size_t dot = name.find('.', prefix.size());
  const std::string index = name.substr(prefix.size(), dot == std::string::npos ? std::string::npos : dot - prefix.size());
  const int64_t layer = parse_layer_index(index);
  if (layer < 0 || dot == std::string::npos)
    throw Error(cat(file, ": tensor '", name, "' has layer index '", index,
                    "', not a decimal number without sign or leading zeros (expected model.layers.<0..",
                    config.num_layers - 1, ">.<tensor>)"));
  if (layer >= config.num_layers)
    throw Error(cat(file, ": tensor '", name, "' names layer ", layer, " but the model has ", config.num_layers,
                    " layers"));
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

// Tensors some checkpoints carry that the model recomputes (old transformers saved RoPE's
// inverse frequencies per layer).
bool ignored_block_tensor(const std::string& rest) { return rest == "self_attn.rotary_emb.inv_freq"; }

[[noreturn]] void unknown_tensor(const std::string& name, const std::string& file) {
  throw Error(cat(file, ": tensor '", name, "' is not a tensor of a LLaMA-family model (known: model.embed_tokens.weight, "
                  "model.norm.weight, lm_head.weight, model.layers.N.{input_layernorm, post_attention_layernorm}.weight, "
                  "model.layers.N.{self_attn.q_proj, k_proj, v_proj, o_proj, mlp.gate_proj, up_proj, down_proj}"
                  ".{weight, bias})"));
}

// The tensor slot an HF name refers to, or nullptr for tensors the model deliberately leaves out
// (lm_head with tied embeddings: the model shares embed_tokens' storage; RoPE inverse
// frequencies). Any other name is an error: a tensor the model would silently not use changes
// its function (a Qwen3 q_norm, a misspelt projection). `w.layers` may be empty only when the name
// is not a layer tensor.
torch::Tensor* slot(model::LlamaWeights& w, const std::string& name, const model::LlamaConfig& config,
                    const std::string& file) {
  if (name == "model.embed_tokens.weight") return &w.embed_tokens;
  if (name == "model.norm.weight") return &w.norm;
  if (name == "lm_head.weight") return config.tie_embeddings ? nullptr : &w.lm_head;
  std::string rest;
  const int64_t layer = layer_of(name, config, &rest, file);
  if (layer < 0) unknown_tensor(name, file);
  if (ignored_block_tensor(rest)) return nullptr;
  torch::Tensor* target = block_slot(w.layers[size_t(layer)], rest);
  if (!target) unknown_tensor(name, file);
  return target;
}

torch::Tensor from_floats(std::vector<float> values, std::vector<int64_t> shape, torch::ScalarType dtype) {
  auto owned = std::make_shared<std::vector<float>>(std::move(values));
  auto t = torch::from_blob(owned->data(), shape, [owned](void*) {}, torch::kFloat32);
  return dtype == torch::kFloat32 ? t.clone() : t.to(dtype);
}

// 1 + the highest canonical N of the names model.layers.N.*; 0 when there are none.
int64_t hf_layers_present(const std::vector<std::string>& names) {
  const std::string prefix = kLayerPrefix;
  int64_t layers = 0;
  for (const auto& name : names) {
    if (name.rfind(prefix, 0) != 0) continue;
    const size_t dot = name.find('.', prefix.size());
    if (dot == std::string::npos) continue;
    layers = std::max(layers, parse_layer_index(name.substr(prefix.size(), dot - prefix.size())) + 1);
  }
  return layers;
}

// The config's layer count sizes the weights before any tensor is read, so it is checked against
// the checkpoint first: a corrupted count (2^31 - 1) is an error, not a bad_alloc.
void check_layer_count(const model::LlamaConfig& config, int64_t layers_present, const std::string& source,
                       const std::string& key) {
  if (config.num_layers != layers_present)
    throw Error(cat(source, ": ", key, " is ", config.num_layers, " but the checkpoint holds tensors for ", layers_present,
                    " decoder layers", layers_present > 0 ? cat(" (0 .. ", layers_present - 1, ")") : std::string()));
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
  check_layer_count(config, io::gguf_blocks_present(file), file.path(), "block_count");
  auto w = empty_weights(config);
  for (const auto& info : file.tensors()) {
    if (info.name == "rope_freqs.weight") continue;  // a rope parameter, read by llama_config_from_gguf
    std::string hf = io::hf_tensor_name(info.name);
    torch::Tensor* target = slot(w, hf, config, file.path());
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
                                             torch::ScalarType dtype, const std::function<bool(const std::string&)>& skip) {
  auto checkpoint = io::SafetensorsCheckpoint::open(path);
  const auto names = checkpoint.tensor_names();
  check_layer_count(config, hf_layers_present(names), path, "num_hidden_layers");
  auto w = empty_weights(config);
  for (const auto& name : names) {
    if (skip && skip(name)) continue;
    auto view = checkpoint.view(name);
    torch::Tensor* target = slot(w, name, config, view.file);
    if (!target) continue;
    *target = from_floats(checkpoint.read_f32(name), view.shape, dtype);
  }
  return w;
}

StreamedWeights streamed_weights_from_safetensors(const std::string& path, const model::LlamaConfig& config,
                                                 torch::ScalarType dtype) {
  auto s = std::make_shared<StreamedSafetensors>(
      StreamedSafetensors{path, io::SafetensorsCheckpoint::open(path), {}, dtype});
  const auto names = s->checkpoint.tensor_names();
  check_layer_count(config, hf_layers_present(names), path, "num_hidden_layers");
  s->layer_tensors.resize(size_t(config.num_layers));
  StreamedWeights out;
  auto probe = empty_weights(config);  // only asked which names are block tensors (no tensor is stored in it)
  for (const auto& name : names) {
    const std::string file = s->checkpoint.view(name).file;
    std::string rest;
    const int64_t layer = layer_of(name, config, &rest, file);
    if (layer >= 0) {
      if (torch::Tensor* target = slot(probe, name, config, file)) {
            s->layer_tensors[size_t(layer)].push_back({name, rest});
      }
      continue;
    }
    torch::Tensor* target = slot(out.resident, name, config, file);
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

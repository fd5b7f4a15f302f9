#include "framework/pipeline/model_loader.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "framework/core/error.h"
#include "framework/core/regular_file.h"
#include "framework/core/sha256.h"
#include "framework/core/torch_compat.h"
#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"
#include "framework/io/gguf_dequant.h"
#include "framework/io/hf_config.h"
#include "framework/pipeline/checkpoint_loader.h"
#include "framework/pipeline/packed_checkpoint.h"
#include "framework/tokenize/gguf_vocab.h"
#include "framework/tokenize/load_tokenizer.h"

namespace abq::pipeline {
namespace {

LoadedModel load_random(const ExperimentSpec& spec) {
  const auto& r = spec.model.random;
  model::LlamaConfig config = random_model_config(r);
  config.max_position = 1 << 16;
  LoadedModel loaded;
  loaded.tokenizer = tokenize::make_byte_tokenizer();
  if (config.vocab_size < loaded.tokenizer->vocab_size())
    throw ConfigError(cat("model.random.vocab_size is ", config.vocab_size, " but the byte tokenizer needs at least ",
                          loaded.tokenizer->vocab_size(), " ids"));
  config.bos_token_id = loaded.tokenizer->bos_id();
  config.eos_token_id = loaded.tokenizer->eos_id();
  loaded.model = std::make_unique<model::LlamaModel>(
      model::make_random_model(config, r.seed, parse_dtype(spec.model.dtype)));
  loaded.model_sha256 = sha256_hex(cat("random-llama V", r.vocab_size, " C", r.hidden_size, " F",
                                       r.intermediate_size, " L", r.num_layers, " H", r.num_heads, " Hkv",
                                       r.num_kv_heads, " tied", r.tie_embeddings, " seed", r.seed));
  loaded.tokenizer_sha256 = sha256_hex("byte-tokenizer-v1");
  loaded.weights_note = "seeded random weights";
  return loaded;
}

// A GGUF file carries config, weights and tokenizer. Quantized blocks are dequantized to float32,
// so the source precision is recorded in weights_note (e.g. Q4_1-dequantized).
LoadedModel load_gguf(const ExperimentSpec& spec, const std::string& path) {
  auto file = io::GgufFile::open(path);
  auto config = io::llama_config_from_gguf(file);
  LoadedModel loaded;
  loaded.model = std::make_unique<model::LlamaModel>(config, weights_from_gguf(file, config, parse_dtype(spec.model.dtype)));
  loaded.tokenizer = tokenize::tokenizer_from_gguf(file);
  loaded.model_sha256 = sha256_file(path);
  loaded.tokenizer_sha256 = loaded.model_sha256;  // the vocabulary lives in the same file
  std::set<std::string> types;
  for (const auto& t : file.tensors())
    if (t.name.find("blk.") == 0 && t.shape.size() == 2) types.insert(io::ggml_type_name(t.type));
  std::string note;
  for (const auto& t : types) note += (note.empty() ? "" : "/") + t;
  loaded.weights_note = "GGUF " + note + "-dequantized (" + path.substr(path.find_last_of('/') + 1) + ")";
  return loaded;
}

// Streamed: only embeddings, final norm and lm_head are converted now; each decoder block is read
// from the mapped checkpoint when a forward reaches it and dropped after.
std::unique_ptr<model::LlamaModel> hf_model(const ExperimentSpec& spec, const std::string& path,
                                            const model::LlamaConfig& config) {
  const auto dtype = parse_dtype(spec.model.dtype);
  if (is_packed_folder(path)) {  // quantized linears as codes: they run packed
    if (spec.model.streamed)
      throw ConfigError(cat(path, " is a packed checkpoint (", kPackedManifest, "); it loads resident: set model.streamed: false"));
    auto weights = weights_from_safetensors(path, config, dtype, is_packed_tensor_name);
    read_packed_linears(path, config, weights);
    return std::make_unique<model::LlamaModel>(config, std::move(weights));
  }
  if (!spec.model.streamed)
    return std::make_unique<model::LlamaModel>(config, weights_from_safetensors(path, config, dtype));
  auto streamed = streamed_weights_from_safetensors(path, config, dtype);
  return std::make_unique<model::LlamaModel>(config, std::move(streamed.resident), std::move(streamed.blocks));
}

// Every file the weights come from: config.json, the index and every .safetensors file of the
// folder (sorted by name), so replacing any shard changes the digest (and with it the key of the
// calibration checkpoints).
// A single-file checkpoint hashes as config.json + model.safetensors.
std::string hf_checkpoint_sha256(const std::string& path) {
  std::vector<std::string> names;
  for (const char* name : {"config.json", "model.safetensors.index.json"})
    if (std::filesystem::is_regular_file(path + "/" + name)) names.push_back(name);
  std::vector<std::string> shards;
  for (const auto& entry : std::filesystem::directory_iterator(path))
    if (entry.path().extension() == ".safetensors" && entry.is_regular_file())
      shards.push_back(entry.path().filename().string());
  std::sort(shards.begin(), shards.end());
  names.insert(names.end(), shards.begin(), shards.end());
  Sha256 h;
  for (const auto& name : names) h.update(name + ":" + sha256_file(path + "/" + name) + "\n");
  return h.hex_digest();
}

LoadedModel load_hf(const ExperimentSpec& spec, const std::string& path) {
  auto config = io::llama_config_from_hf(path + "/config.json");
  LoadedModel loaded;
  loaded.model = hf_model(spec, path, config);
  if (spec.tokenizer.type == "auto") loaded.tokenizer = tokenize::load_tokenizer(path);
  loaded.model_sha256 = hf_checkpoint_sha256(path);
  for (const char* name : {"tokenizer.json", "tokenizer.model"})
    if (std::filesystem::is_regular_file(path + "/" + name)) {
      loaded.tokenizer_sha256 = sha256_file(path + "/" + name);
      break;
    }
  loaded.weights_note = spec.model.streamed ? "HF safetensors (streamed)"
                        : is_packed_folder(path) ? "HF safetensors, quantized linears packed (abq_packed.json)"
                                                 : "HF safetensors";
  return loaded;
}

}  // namespace

model::LlamaConfig random_model_config(const RandomModelSpec& r) {
  model::LlamaConfig c;
  c.model_type = "llama";
  c.vocab_size = r.vocab_size;
  c.hidden_size = r.hidden_size;
  c.intermediate_size = r.intermediate_size;
  c.num_layers = r.num_layers;
  c.num_heads = r.num_heads;
  c.num_kv_heads = r.num_kv_heads;
  c.tie_embeddings = r.tie_embeddings;
  return c;
}

LoadedModel load_model(const ExperimentSpec& spec) {
  LoadedModel loaded;
  const std::string path = spec.resolve_path(spec.model.path);
  try {
    if (spec.model.source == "random") {
      loaded = load_random(spec);
    } else if (spec.model.source == "gguf") {
      require_regular_file(path, "model.path (a GGUF file)");  // a FIFO would block the reader forever
      loaded = load_gguf(spec, path);
    } else {
      require_directory(path, "model.path (an HF checkpoint folder)");
      loaded = load_hf(spec, path);
    }
  } catch (Error& e) {
    if (spec.model.source != "random") e.with_context("loading " + path);
    throw;
  }
  if (spec.tokenizer.type == "byte") {
    loaded.tokenizer = tokenize::make_byte_tokenizer();
    loaded.tokenizer_sha256 = sha256_hex("byte-tokenizer-v1");
  }
  // Every id the tokenizer can produce must index the embedding table.
  const int64_t model_vocab = loaded.model->config().vocab_size;
  if (loaded.tokenizer->vocab_size() > model_vocab)
    throw ConfigError(cat("the tokenizer (tokenizer.type: ", spec.tokenizer.type, ") has ",
                          loaded.tokenizer->vocab_size(), " ids but the model's vocabulary has ", model_vocab,
                          "; use the checkpoint's own tokenizer (tokenizer.type: auto)"));
  if (spec.model.device != "cpu") {
    if (!torch_cuda_available())
      throw Error(cat("model.device is '", spec.model.device,
                      "' but this LibTorch has no usable CUDA device (LibTorch ", torch_version(),
                      "); use device: cpu or build against a CUDA LibTorch"));
    loaded.model->to(parse_device(spec.model.device), parse_dtype(spec.model.dtype));
  }
  return loaded;
}

}  // namespace abq::pipeline

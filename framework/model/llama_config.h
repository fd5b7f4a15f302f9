// LlamaConfig: the hyper-parameters of one LLaMA-family decoder, read from HF config.json
// (io/hf_config) or GGUF metadata (io/gguf_config), or chosen for a seeded random test model.
// Pure C++ so io/ can fill it without LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace abq::model {

/// RoPE frequency scaling. "none" or "llama3" (Llama-3.1 style); "linear" divides positions.
struct RopeScaling {
  std::string type = "none";
  double factor = 1.0;
  double low_freq_factor = 1.0;                 // llama3 only
  double high_freq_factor = 4.0;                // llama3 only
  int64_t original_max_position = 8192;         // llama3 only
  // Per-frequency divisors θ_i ÷ d_i (D/2 values, all > 0), applied after the scaling above; empty =
  // none. GGUF files for Llama 3.1 store their rope scaling this way (rope_freqs.weight).
  std::vector<double> freq_divisors;
};

struct LlamaConfig {
  std::string model_type = "llama";  // llama, mistral, qwen2 (SmolLM2 reports llama)
  int64_t vocab_size = 0;            // V
  int64_t hidden_size = 0;           // C
  int64_t intermediate_size = 0;     // F
  int64_t num_layers = 0;
  int64_t num_heads = 0;             // H
  int64_t num_kv_heads = 0;          // Hkv (GQA when < H)
  int64_t head_dim = 0;              // D (usually C / H)
  int64_t max_position = 2048;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  double rms_eps = 1e-6;
  bool tie_embeddings = false;       // lm_head shares embed_tokens
  bool attention_bias = false;       // q/k/v biases (Qwen2)
  int64_t bos_token_id = -1;         // -1: none
  int64_t eos_token_id = -1;
};

}  // namespace abq::model

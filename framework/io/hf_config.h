// LlamaConfig from a Hugging Face config.json (model_type llama, mistral or qwen2).
#pragma once

#include <string>

#include "framework/model/llama_config.h"

namespace abq::io {

/// Reads config.json. Required: model_type, vocab_size, hidden_size, intermediate_size,
/// num_hidden_layers, num_attention_heads. Defaults as in transformers when absent or null:
/// num_key_value_heads = num_attention_heads, head_dim = hidden_size / heads,
/// max_position_embeddings 2048, rope_theta 10000, rms_norm_eps 1e-6, tie_word_embeddings false,
/// attention_bias false (always true for qwen2). rope_scaling: null, or {"rope_type" | "type":
/// "llama3" | "linear", "factor", ...}; other types throw. eos_token_id may be a list (first is
/// kept). Errors name the file and the key; an unsupported model_type lists the supported ones.
model::LlamaConfig llama_config_from_hf(const std::string& config_json_path);

}  // namespace abq::io

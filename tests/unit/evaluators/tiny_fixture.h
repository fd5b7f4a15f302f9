// Shared by the evaluator tests: the tiny model of tests/fixtures/evaluators (weights drawn and
// written by tools/fixtures/evaluators_reference.py, which also computed expected.json with its
// own numpy forward) and the fixture paths.
#pragma once

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "framework/io/safetensors.h"
#include "framework/model/llama_model.h"

namespace abq::evaluators::testing {

inline std::string fixture(const std::string& rel) { return std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/evaluators/" + rel; }

inline nlohmann::json read_json(const std::string& rel) {
  std::ifstream in(fixture(rel));
  return nlohmann::json::parse(in);
}

inline model::LlamaModel load_tiny(const std::string& file) {
  model::LlamaConfig c;
  c.vocab_size = 258;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 8;
  c.max_position = 4096;
  c.rms_eps = 1e-6;
  c.rope_theta = 10000.0;
  c.bos_token_id = 256;
  c.eos_token_id = 257;
  auto ck = io::SafetensorsCheckpoint::open(fixture(file));
  auto t = [&](const std::string& name) {
    auto view = ck.view(name);
    auto values = ck.read_f32(name);
    return torch::from_blob(values.data(), view.shape, torch::kFloat32).clone();
  };
  model::LlamaWeights w;
  w.embed_tokens = t("model.embed_tokens.weight");
  w.norm = t("model.norm.weight");
  w.lm_head = t("lm_head.weight");
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    model::DecoderBlock b;
    b.input_norm = t(p + "input_layernorm.weight");
    b.post_attention_norm = t(p + "post_attention_layernorm.weight");
    b.q_proj.weight = t(p + "self_attn.q_proj.weight");
    b.k_proj.weight = t(p + "self_attn.k_proj.weight");
    b.v_proj.weight = t(p + "self_attn.v_proj.weight");
    b.o_proj.weight = t(p + "self_attn.o_proj.weight");
    b.gate_proj.weight = t(p + "mlp.gate_proj.weight");
    b.up_proj.weight = t(p + "mlp.up_proj.weight");
    b.down_proj.weight = t(p + "mlp.down_proj.weight");
    w.layers.push_back(b);
  }
  return model::LlamaModel(c, w);
}

}  // namespace abq::evaluators::testing

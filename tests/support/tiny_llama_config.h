// The tiny random LLaMA that unit tests share: V 64, C 32, F 64, 4 query heads of 8, GQA with 2 KV
// heads by default, rms_eps 1e-5. Small enough for float64 reference checks in milliseconds.
#pragma once

#include <cstdint>

#include "framework/model/llama_config.h"

namespace abq::test {

inline model::LlamaConfig tiny_llama_config(int64_t layers = 2, int64_t kv_heads = 2) {
  model::LlamaConfig c;
  c.vocab_size = 64;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_layers = layers;
  c.num_heads = 4;
  c.num_kv_heads = kv_heads;
  c.rms_eps = 1e-5;
  return c;
}

}  // namespace abq::test

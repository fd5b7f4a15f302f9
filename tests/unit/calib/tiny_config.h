// The tiny random LLaMA the calibration tests share: V 64, C 32, F 64, 4 heads / 2 KV heads (GQA).
#pragma once

#include "framework/model/llama_config.h"

namespace abq::calib {

inline model::LlamaConfig tiny_config(int64_t layers) {
  model::LlamaConfig c;
  c.vocab_size = 64;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_layers = layers;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.rms_eps = 1e-5;
  return c;
}

}  // namespace abq::calib

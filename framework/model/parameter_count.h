// How many parameters a LLaMA-family decoder holds, from its hyper-parameters alone: the figure
// behind whole-model storage in reports (a run's model_bytes). Tied embeddings count once.
#pragma once

#include <cstdint>

#include "framework/model/llama_config.h"

namespace abq::model {

struct ParameterCount {
  int64_t block_linears = 0;  // q, k, v, o, gate, up, down of every block (the quantizable sites)
  int64_t other = 0;          // embeddings, lm_head (untied), norms, attention biases
  int64_t total() const { return block_linears + other; }
};

ParameterCount parameter_count(const LlamaConfig& config);

}  // namespace abq::model

#include "framework/model/parameter_count.h"

namespace abq::model {

ParameterCount parameter_count(const LlamaConfig& c) {
  const int64_t q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  const int64_t attention = c.hidden_size * (q + 2 * kv) + q * c.hidden_size;  // q, k, v in; o out
  const int64_t mlp = 3 * c.hidden_size * c.intermediate_size;                 // gate, up, down
  ParameterCount n;
  n.block_linears = c.num_layers * (attention + mlp);
  const int64_t per_block_other = 2 * c.hidden_size + (c.attention_bias ? q + 2 * kv : 0);  // two norms, biases
  n.other = c.vocab_size * c.hidden_size * (c.tie_embeddings ? 1 : 2) + c.hidden_size + c.num_layers * per_block_other;
  return n;
}

}  // namespace abq::model

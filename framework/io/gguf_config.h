// LlamaConfig from GGUF metadata, GGUF -> Hugging Face tensor names, and the inverse of the Q/K row
// permutation that llama.cpp's converter applies (so GGUF weights can feed the HF-layout model).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/io/gguf.h"
#include "framework/model/llama_config.h"

namespace abq::io {

/// Reads general.architecture (llama or qwen2) and the <arch>.* keys:
///   context_length -> max_position, embedding_length -> hidden_size, block_count -> num_layers,
///   feed_forward_length -> intermediate_size, attention.head_count -> num_heads,
///   attention.head_count_kv -> num_kv_heads (default: head_count), attention.key_length -> head_dim
///   (default: hidden / heads), rope.freq_base -> rope_theta (default 10000),
///   attention.layer_norm_rms_epsilon -> rms_eps, rope.scaling.type/factor (linear only),
///   vocab_size or the length of tokenizer.ggml.tokens, tokenizer.ggml.bos/eos_token_id.
/// tie_embeddings is true when the file has no output.weight; attention_bias when blk.0.attn_q.bias
/// exists. A llama3-style rope stored as the tensor rope_freqs.weight (D/2 divisors of θ_i, as
/// llama.cpp's converter writes Llama 3.1) becomes rope_scaling.freq_divisors.
/// Refused with abq::Error naming the key: values outside check_hparam_ranges (hparam_ranges.h),
/// rope.dimension_count other than the head dimension (no partial rotary), and a block_count other
/// than the number of blk.N blocks the file holds tensors for (when it holds any).
model::LlamaConfig llama_config_from_gguf(const GgufFile& file);

/// 1 + the highest N of the tensors named blk.N.* (canonical decimal N); 0 when there are none.
int64_t gguf_blocks_present(const GgufFile& file);

/// token_embd.weight -> model.embed_tokens.weight, blk.N.attn_q.weight ->
/// model.layers.N.self_attn.q_proj.weight, ... (.weight and .bias). Throws abq::Error naming the
/// tensor for names outside the LLaMA-family table (e.g. rope_freqs.weight).
std::string hf_tensor_name(const std::string& gguf_name);

/// llama.cpp's converter stores Q and K weights with the rows of each head interleaved:
/// HF [n_head * D, C] -> reshape(n_head, 2, D/2, C).swapaxes(1, 2).reshape(n_head * D, C), i.e.
///   gguf row h*D + 2*i + s  ==  hf row h*D + s*D/2 + i      (s in {0, 1}, i < D/2).
/// unpermute_qk_rows undoes it; permute_qk_rows applies it. `rows` is row-major [n_rows, n_cols];
/// use n_head = attention.head_count for Q, head_count_kv for K; n_cols = 1 for a bias.
/// Throws abq::Error unless rows.size() == n_rows * n_cols and n_rows is a multiple of 2 * n_head.
std::vector<float> unpermute_qk_rows(const std::vector<float>& rows, int64_t n_rows, int64_t n_cols,
                                     int64_t n_head);
std::vector<float> permute_qk_rows(const std::vector<float>& rows, int64_t n_rows, int64_t n_cols,
                                   int64_t n_head);

}  // namespace abq::io

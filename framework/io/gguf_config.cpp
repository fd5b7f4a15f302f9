#include "framework/io/gguf_config.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"
#include "framework/io/hparam_ranges.h"

namespace abq::io {

int64_t gguf_blocks_present(const GgufFile& f) {
  int64_t blocks = 0;
  for (const auto& t : f.tensors()) {
    if (t.name.rfind("blk.", 0) != 0) continue;
    const size_t dot = t.name.find('.', 4);
    const std::string index = t.name.substr(4, dot == std::string::npos ? std::string::npos : dot - 4);
    const bool canonical = !index.empty() && index.size() < 10 && index.find_first_not_of("0123456789") == std::string::npos &&
                           (index.size() == 1 || index[0] != '0');
    if (canonical) blocks = std::max<int64_t>(blocks, std::stoll(index) + 1);
  }
  return blocks;
}

namespace {

// block_count sizes the model before any tensor is read: a corrupted count (2^31 - 1) must not
// allocate that many blocks. A file with block tensors must hold exactly blk.0 .. blk.{count-1};
// metadata-only files (vocabularies) are left to the weight loader, which checks the same.
void check_block_count(const GgufFile& f, const std::string& key, int64_t block_count) {
  const int64_t present = gguf_blocks_present(f);
  if (present > 0 && present != block_count)
    throw Error(cat(f.path(), ": ", key, " is ", block_count, " but the file holds tensors for ", present,
                    " blocks (blk.0 .. blk.", present - 1, ")"));
}

}  // namespace

model::LlamaConfig llama_config_from_gguf(const GgufFile& f) {
  try {
    const std::string arch = f.get_string("general.architecture");
    if (arch != "llama" && arch != "qwen2") {
      throw Error(cat(f.path(), ": general.architecture is '", arch, "'; supported: llama, qwen2"));
    }
    const std::string p = arch + ".";
    model::LlamaConfig c;
    c.model_type = arch;
    c.hidden_size = f.get_int(p + "embedding_length");
    c.num_layers = f.get_int(p + "block_count");
    c.intermediate_size = f.get_int(p + "feed_forward_length");
    c.num_heads = f.get_int(p + "attention.head_count");
    c.num_kv_heads = f.has(p + "attention.head_count_kv") ? f.get_int(p + "attention.head_count_kv") : c.num_heads;
    if (f.has(p + "context_length")) c.max_position = f.get_int(p + "context_length");
    if (f.has(p + "rope.freq_base")) c.rope_theta = f.get_float(p + "rope.freq_base");
    c.rms_eps = f.get_float(p + "attention.layer_norm_rms_epsilon");
    if (c.hidden_size <= 0 || c.num_layers <= 0 || c.intermediate_size <= 0 || c.num_heads <= 0 ||
        c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0) {
      throw Error(cat(f.path(), ": implausible hyper-parameters: embedding_length ", c.hidden_size,
                      ", block_count ", c.num_layers, ", feed_forward_length ", c.intermediate_size,
                      ", head_count ", c.num_heads, ", head_count_kv ", c.num_kv_heads,
                      " (all must be positive, head_count a multiple of head_count_kv)"));
    }
    if (f.has(p + "attention.key_length")) {
      c.head_dim = f.get_int(p + "attention.key_length");
    } else {
      if (c.hidden_size % c.num_heads != 0) {
        throw Error(cat(f.path(), ": embedding_length ", c.hidden_size, " is not a multiple of head_count ",
                        c.num_heads, " and no ", p, "attention.key_length is given"));
      }
      c.head_dim = c.hidden_size / c.num_heads;
    }
    if (c.head_dim <= 0)
      throw Error(cat(f.path(), ": ", p, "attention.key_length is ", c.head_dim, "; expected a positive head dimension"));
    // The model rotates every dimension of a head; partial rotary (dimension_count < head_dim) is
    // not implemented, so a file asking for it is refused rather than run with full rotation.
    if (f.has(p + "rope.dimension_count")) {
      const int64_t rotary = f.get_int(p + "rope.dimension_count");
      if (rotary != c.head_dim)
        throw Error(cat(f.path(), ": ", p, "rope.dimension_count is ", rotary, " but the head dimension is ", c.head_dim,
                        "; only full rotary embeddings (dimension_count = head dimension) are supported"));
    }
    check_hparam_ranges(c, {p + "attention.layer_norm_rms_epsilon", p + "rope.freq_base", p + "context_length"},
                        f.path());
    check_block_count(f, p + "block_count", c.num_layers);
    if (f.has(p + "rope.scaling.type")) {
      const std::string type = f.get_string(p + "rope.scaling.type");
      if (type == "linear") {
        c.rope_scaling.type = "linear";
        c.rope_scaling.factor = f.get_float(p + "rope.scaling.factor");
        if (!std::isfinite(c.rope_scaling.factor) || c.rope_scaling.factor <= 0)
          throw Error(cat(f.path(), ": ", p, "rope.scaling.factor is ", c.rope_scaling.factor,
                          "; expected a finite positive factor"));
      } else if (type != "none") {
        throw Error(cat(f.path(), ": rope.scaling.type '", type, "' is not supported (supported: none, linear)"));
      }
    }
    if (f.has_tensor("rope_freqs.weight")) {  // llama3 scaling, stored as one divisor per frequency
      for (float d : f.dequantize("rope_freqs.weight")) c.rope_scaling.freq_divisors.push_back(d);
      if (int64_t(c.rope_scaling.freq_divisors.size()) != c.head_dim / 2)
        throw Error(cat(f.path(), ": tensor 'rope_freqs.weight' has ", c.rope_scaling.freq_divisors.size(),
                        " values; expected head_dim / 2 = ", c.head_dim / 2));
    }
    if (f.has(p + "vocab_size")) {
      c.vocab_size = f.get_int(p + "vocab_size");
    } else {
      c.vocab_size = static_cast<int64_t>(f.get_string_array("tokenizer.ggml.tokens").size());
    }
    if (f.has("tokenizer.ggml.bos_token_id")) c.bos_token_id = f.get_int("tokenizer.ggml.bos_token_id");
    if (f.has("tokenizer.ggml.eos_token_id")) c.eos_token_id = f.get_int("tokenizer.ggml.eos_token_id");
    c.tie_embeddings = !f.has_tensor("output.weight");
    c.attention_bias = f.has_tensor("blk.0.attn_q.bias");
    return c;
  } catch (Error& e) {
    e.with_context(cat("while reading the model config from ", f.path()));
    throw;
  }
}

namespace {

struct NamePair {
  const char* gguf;
  const char* hf;
};
// Per-block names (after "blk.N." / "model.layers.N."), llama.cpp src/llama-arch.cpp LLM_ARCH_LLAMA.
constexpr NamePair kBlockNames[] = {
    {"attn_q", "self_attn.q_proj"},       {"attn_k", "self_attn.k_proj"},
    {"attn_v", "self_attn.v_proj"},       {"attn_output", "self_attn.o_proj"},
    {"ffn_gate", "mlp.gate_proj"},        {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"},        {"attn_norm", "input_layernorm"},
    {"ffn_norm", "post_attention_layernorm"},
};
constexpr NamePair kGlobalNames[] = {
    {"token_embd", "model.embed_tokens"}, {"output_norm", "model.norm"}, {"output", "lm_head"}};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string hf_tensor_name(const std::string& gguf_name) {
  std::string stem, suffix;
  for (const char* sfx : {".weight", ".bias"}) {
    if (ends_with(gguf_name, sfx)) {
      suffix = sfx;
      stem = gguf_name.substr(0, gguf_name.size() - suffix.size());
    }
  }
  if (!suffix.empty()) {
    for (const auto& n : kGlobalNames) {
      if (stem == n.gguf) return std::string(n.hf) + suffix;
    }
    if (stem.rfind("blk.", 0) == 0) {
      const size_t dot = stem.find('.', 4);
      const std::string layer = stem.substr(4, dot == std::string::npos ? std::string::npos : dot - 4);
      const bool digits = !layer.empty() && layer.size() < 10 &&
                          layer.find_first_not_of("0123456789") == std::string::npos;
      if (digits && dot != std::string::npos) {
        const std::string part = stem.substr(dot + 1);
        for (const auto& n : kBlockNames) {
          if (part == n.gguf) return "model.layers." + layer + "." + n.hf + suffix;
        }
      }
    }
  }
  throw Error(cat("GGUF tensor '", gguf_name, "' has no Hugging Face LLaMA equivalent (known: token_embd, "
                  "output_norm, output, blk.N.{attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, "
                  "ffn_down, attn_norm, ffn_norm} with .weight or .bias)"));
}

namespace {

// mode true: gguf -> hf (undo); false: hf -> gguf (apply).
std::vector<float> qk_rows(const std::vector<float>& rows, int64_t n_rows, int64_t n_cols, int64_t n_head,
                           bool undo) {
  if (n_rows <= 0 || n_cols <= 0 || n_head <= 0 || n_rows % (2 * n_head) != 0 ||
      static_cast<int64_t>(rows.size()) / n_cols != n_rows || static_cast<int64_t>(rows.size()) % n_cols != 0) {
    throw Error(cat("Q/K row permutation: ", rows.size(), " values as [", n_rows, ", ", n_cols,
                    "] with ", n_head, " heads; need size == rows * cols and rows a multiple of 2 * heads"));
  }
  const int64_t d = n_rows / n_head;  // head_dim D
  const int64_t half = d / 2;
  std::vector<float> out(rows.size());
  for (int64_t h = 0; h < n_head; ++h) {
    for (int64_t s = 0; s < 2; ++s) {
      for (int64_t i = 0; i < half; ++i) {
        const int64_t gguf_row = h * d + 2 * i + s;
        const int64_t hf_row = h * d + s * half + i;
        const int64_t from = undo ? gguf_row : hf_row;
        const int64_t to = undo ? hf_row : gguf_row;
        std::memcpy(&out[static_cast<size_t>(to * n_cols)], &rows[static_cast<size_t>(from * n_cols)],
                    static_cast<size_t>(n_cols) * sizeof(float));
      }
    }
  }
  return out;
}

}  // namespace

std::vector<float> unpermute_qk_rows(const std::vector<float>& rows, int64_t n_rows, int64_t n_cols,
                                     int64_t n_head) {
  return qk_rows(rows, n_rows, n_cols, n_head, true);
}

std::vector<float> permute_qk_rows(const std::vector<float>& rows, int64_t n_rows, int64_t n_cols,
                                   int64_t n_head) {
  return qk_rows(rows, n_rows, n_cols, n_head, false);
}

}  // namespace abq::io

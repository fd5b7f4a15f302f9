// GGUF -> LlamaConfig, tensor-name mapping and Q/K row permutation. Expected values: the metadata
// written here by hand (SmolLM2-135M numbers from its config.json: hidden 576, 30 layers, 9 heads,
// 3 kv heads, ffn 1536, theta 100000, eps 1e-5); the permutation example is worked out by hand
// from llama.cpp's convert_hf_to_gguf.py permute(): reshape(n_head, 2, D/2, C).swapaxes(1, 2).
// Range errors: values no published model has (the ranges in io/hparam_ranges.h), text pinned.
#include "framework/io/gguf_config.h"

#include <cmath>
#include <functional>
#include <limits>

#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "tests/unit/io/gguf_writer.h"

namespace abq::io {
namespace {

using namespace abq::io::testing;

// SmolLM2's keys; `skip` leaves one out, so a test can write that key with a value of its own.
void add_llama_keys(GgufWriter& w, const std::string& skip = "") {
  auto u32 = [&](const std::string& k, uint32_t v) { if (k != skip) w.kv_u32(k, v); };
  auto f32 = [&](const std::string& k, float v) { if (k != skip) w.kv_f32(k, v); };
  w.kv_str("general.architecture", "llama");
  u32("llama.context_length", 8192);
  u32("llama.embedding_length", 576);
  u32("llama.block_count", 30);
  u32("llama.feed_forward_length", 1536);
  u32("llama.attention.head_count", 9);
  u32("llama.attention.head_count_kv", 3);
  f32("llama.rope.freq_base", 100000.0f);
  f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.kv_str_array("tokenizer.ggml.tokens", {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "a", "b"});
  u32("tokenizer.ggml.bos_token_id", 1);
  u32("tokenizer.ggml.eos_token_id", 2);
}

std::string error_of_config(const std::string& path) {
  try {
    llama_config_from_gguf(GgufFile::open(path));
  } catch (const Error& e) {
    return e.message();
  }
  return "<no error>";
}

TEST(GgufConfig, LlamaKeys) {
  GgufWriter w;
  add_llama_keys(w);
  w.tensor("token_embd.weight", {4, 5}, 0, std::vector<uint8_t>(80));
  write_file(temp_path("cfg.gguf"), w.build());
  const model::LlamaConfig c = llama_config_from_gguf(GgufFile::open(temp_path("cfg.gguf")));
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.max_position, 8192);
  EXPECT_EQ(c.hidden_size, 576);
  EXPECT_EQ(c.num_layers, 30);
  EXPECT_EQ(c.intermediate_size, 1536);
  EXPECT_EQ(c.num_heads, 9);
  EXPECT_EQ(c.num_kv_heads, 3);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rope_theta, 100000.0);
  EXPECT_FLOAT_EQ(static_cast<float>(c.rms_eps), 1e-5f);
  EXPECT_EQ(c.vocab_size, 5);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_id, 2);
  EXPECT_TRUE(c.tie_embeddings);  // no output.weight
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.rope_scaling.type, "none");
}

TEST(GgufConfig, UntiedWithBiasAndDefaults) {
  GgufWriter w;
  w.kv_str("general.architecture", "qwen2");
  w.kv_u32("qwen2.embedding_length", 64);
  w.kv_u32("qwen2.block_count", 1);  // the file holds blk.0 only
  w.kv_u32("qwen2.feed_forward_length", 128);
  w.kv_u32("qwen2.attention.head_count", 4);
  w.kv_f32("qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
  w.kv_u32("qwen2.vocab_size", 1000);
  w.kv_str("qwen2.rope.scaling.type", "linear");
  w.kv_f32("qwen2.rope.scaling.factor", 4.0f);
  w.tensor("output.weight", {1}, 0, f32_bytes({0}));
  w.tensor("blk.0.attn_q.bias", {1}, 0, f32_bytes({0}));
  write_file(temp_path("cfg2.gguf"), w.build());
  const model::LlamaConfig c = llama_config_from_gguf(GgufFile::open(temp_path("cfg2.gguf")));
  EXPECT_EQ(c.model_type, "qwen2");
  EXPECT_EQ(c.num_kv_heads, 4);  // defaults to head_count
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.vocab_size, 1000);
  EXPECT_FALSE(c.tie_embeddings);
  EXPECT_TRUE(c.attention_bias);
  EXPECT_EQ(c.rope_scaling.type, "linear");
  EXPECT_EQ(c.rope_scaling.factor, 4.0);
}

// Llama 3.1 GGUFs carry their rope scaling as rope_freqs.weight: D/2 F32 divisors of θ_i.
TEST(GgufConfig, RopeFreqsTensorBecomesFrequencyDivisors) {
  std::vector<float> divisors(32, 1.0f);  // head_dim 576 / 9 = 64
  divisors[31] = 8.0f;
  divisors[20] = 2.5f;
  GgufWriter w;
  add_llama_keys(w);
  w.tensor("rope_freqs.weight", {32}, 0, f32_bytes(divisors));
  write_file(temp_path("cfg_rope_freqs.gguf"), w.build());
  const model::LlamaConfig c = llama_config_from_gguf(GgufFile::open(temp_path("cfg_rope_freqs.gguf")));
  EXPECT_EQ(c.rope_scaling.type, "none");
  EXPECT_EQ(c.rope_scaling.freq_divisors, std::vector<double>(divisors.begin(), divisors.end()));

  GgufWriter bad;
  add_llama_keys(bad);
  bad.tensor("rope_freqs.weight", {3}, 0, f32_bytes({1, 2, 3}));
  write_file(temp_path("cfg_rope_freqs_bad.gguf"), bad.build());
  try {
    llama_config_from_gguf(GgufFile::open(temp_path("cfg_rope_freqs_bad.gguf")));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), temp_path("cfg_rope_freqs_bad.gguf") +
                               ": tensor 'rope_freqs.weight' has 3 values; expected head_dim / 2 = 32");
  }
}

TEST(GgufConfig, ErrorsNameTheFileAndKey) {
  GgufWriter w;
  w.kv_str("general.architecture", "gemma");
  write_file(temp_path("cfg3.gguf"), w.build());
  const GgufFile g = GgufFile::open(temp_path("cfg3.gguf"));
  try {
    llama_config_from_gguf(g);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), temp_path("cfg3.gguf") + ": general.architecture is 'gemma'; supported: llama, qwen2");
    EXPECT_EQ(e.context().at(0), "while reading the model config from " + temp_path("cfg3.gguf"));
  }
  GgufWriter m;
  m.kv_str("general.architecture", "llama");
  write_file(temp_path("cfg4.gguf"), m.build());
  const GgufFile g4 = GgufFile::open(temp_path("cfg4.gguf"));
  try {
    llama_config_from_gguf(g4);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), temp_path("cfg4.gguf") + ": metadata key 'llama.embedding_length' not found");
  }
}

// Values no model can have were accepted and ran: rms_eps = inf zeroes every RMSNorm, a freq_base
// of 1e-30 or inf scrambles RoPE, context_length 0 and a partial rotary dimension_count were ignored.
TEST(GgufConfig, MetadataOutOfRangeIsRefusedNamingTheKey) {
  struct Case {
    std::string key;
    float value;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"llama.attention.layer_norm_rms_epsilon", std::numeric_limits<float>::infinity(),
       "'llama.attention.layer_norm_rms_epsilon' is inf; expected a finite value in (0, 1), e.g. 1e-5"},
      {"llama.attention.layer_norm_rms_epsilon", 0.0f,
       "'llama.attention.layer_norm_rms_epsilon' is 0; expected a finite value in (0, 1), e.g. 1e-5"},
      {"llama.attention.layer_norm_rms_epsilon", 2.0f,
       "'llama.attention.layer_norm_rms_epsilon' is 2; expected a finite value in (0, 1), e.g. 1e-5"},
      {"llama.rope.freq_base", std::numeric_limits<float>::infinity(),
       "'llama.rope.freq_base' is inf; expected a finite value in (1, 1e12], e.g. 10000"},
      {"llama.rope.freq_base", 1e-30f, "'llama.rope.freq_base' is 1e-30; expected a finite value in (1, 1e12], e.g. 10000"},
      {"llama.rope.freq_base", std::nanf(""), "'llama.rope.freq_base' is nan; expected a finite value in (1, 1e12], e.g. 10000"},
  };
  for (const auto& c : cases) {
    const std::string name = "cfg_range.gguf";
    GgufWriter w;
    add_llama_keys(w, c.key);
    w.kv_f32(c.key, c.value);
    write_file(temp_path(name), w.build());
    EXPECT_EQ(error_of_config(temp_path(name)), temp_path(name) + ": " + c.expected) << c.key;
  }
  GgufWriter ctx;
  add_llama_keys(ctx, "llama.context_length");
  ctx.kv_u32("llama.context_length", 0);
  write_file(temp_path("cfg_ctx.gguf"), ctx.build());
  EXPECT_EQ(error_of_config(temp_path("cfg_ctx.gguf")),
            temp_path("cfg_ctx.gguf") + ": 'llama.context_length' is 0; expected a positive context length");

  GgufWriter rot;
  add_llama_keys(rot);
  rot.kv_u32("llama.rope.dimension_count", 32);  // head_dim 576 / 9 = 64
  write_file(temp_path("cfg_rot.gguf"), rot.build());
  EXPECT_EQ(error_of_config(temp_path("cfg_rot.gguf")),
            temp_path("cfg_rot.gguf") + ": llama.rope.dimension_count is 32 but the head dimension is 64; only full "
                                        "rotary embeddings (dimension_count = head dimension) are supported");
  GgufWriter full;
  add_llama_keys(full);
  full.kv_u32("llama.rope.dimension_count", 64);
  write_file(temp_path("cfg_rot_full.gguf"), full.build());
  EXPECT_EQ(error_of_config(temp_path("cfg_rot_full.gguf")), "<no error>");
}

// block_count sizes the model before a tensor is read: 2^31 - 1 must be an error naming the count
// and the blocks present, not a bad_alloc.
TEST(GgufConfig, BlockCountMustMatchTheBlocksPresent) {
  GgufWriter w;
  add_llama_keys(w, "llama.block_count");
  w.kv_u32("llama.block_count", 2147483647u);
  w.tensor("blk.0.attn_norm.weight", {1}, 0, f32_bytes({1}));
  w.tensor("blk.1.attn_norm.weight", {1}, 0, f32_bytes({1}));
  write_file(temp_path("cfg_blocks.gguf"), w.build());
  EXPECT_EQ(error_of_config(temp_path("cfg_blocks.gguf")),
            temp_path("cfg_blocks.gguf") +
                ": llama.block_count is 2147483647 but the file holds tensors for 2 blocks (blk.0 .. blk.1)");
  EXPECT_EQ(gguf_blocks_present(GgufFile::open(temp_path("cfg_blocks.gguf"))), 2);
}

TEST(GgufConfig, HfTensorNames) {
  EXPECT_EQ(hf_tensor_name("token_embd.weight"), "model.embed_tokens.weight");
  EXPECT_EQ(hf_tensor_name("output_norm.weight"), "model.norm.weight");
  EXPECT_EQ(hf_tensor_name("output.weight"), "lm_head.weight");
  EXPECT_EQ(hf_tensor_name("blk.0.attn_q.weight"), "model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(hf_tensor_name("blk.17.attn_k.weight"), "model.layers.17.self_attn.k_proj.weight");
  EXPECT_EQ(hf_tensor_name("blk.3.attn_v.bias"), "model.layers.3.self_attn.v_proj.bias");
  EXPECT_EQ(hf_tensor_name("blk.3.attn_output.weight"), "model.layers.3.self_attn.o_proj.weight");
  EXPECT_EQ(hf_tensor_name("blk.29.ffn_gate.weight"), "model.layers.29.mlp.gate_proj.weight");
  EXPECT_EQ(hf_tensor_name("blk.29.ffn_up.weight"), "model.layers.29.mlp.up_proj.weight");
  EXPECT_EQ(hf_tensor_name("blk.29.ffn_down.weight"), "model.layers.29.mlp.down_proj.weight");
  EXPECT_EQ(hf_tensor_name("blk.1.attn_norm.weight"), "model.layers.1.input_layernorm.weight");
  EXPECT_EQ(hf_tensor_name("blk.1.ffn_norm.weight"), "model.layers.1.post_attention_layernorm.weight");
  for (const char* bad : {"rope_freqs.weight", "blk.x.attn_q.weight", "blk.1.attn_q", "blk..attn_q.weight",
                          "blk.1.attn_qq.weight", ""}) {
    EXPECT_THROW(hf_tensor_name(bad), Error) << bad;
  }
}

TEST(GgufConfig, QkPermutationHandExample) {
  // One head, D = 4, C = 1. HF rows r0..r3 split into halves (r0, r1 | r2, r3); GGUF interleaves
  // them: gguf row 2i + s = hf row s*2 + i -> [r0, r2, r1, r3].
  EXPECT_EQ(permute_qk_rows({10, 11, 12, 13}, 4, 1, 1), (std::vector<float>{10, 12, 11, 13}));
  EXPECT_EQ(unpermute_qk_rows({10, 12, 11, 13}, 4, 1, 1), (std::vector<float>{10, 11, 12, 13}));
  // Two heads, D = 4, C = 2; row k of HF holds (k, -k). Each head is permuted on its own.
  const std::vector<float> hf = {0, -0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7};
  const std::vector<float> gguf = {0, -0, 2, -2, 1, -1, 3, -3, 4, -4, 6, -6, 5, -5, 7, -7};
  EXPECT_EQ(permute_qk_rows(hf, 8, 2, 2), gguf);
  EXPECT_EQ(unpermute_qk_rows(gguf, 8, 2, 2), hf);
  // D = 8: gguf rows [h0 i0 s0, i0 s1, i1 s0, i1 s1, ...] = hf rows [0, 4, 1, 5, 2, 6, 3, 7]
  EXPECT_EQ(unpermute_qk_rows({0, 4, 1, 5, 2, 6, 3, 7}, 8, 1, 1), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_THROW(unpermute_qk_rows({1, 2, 3}, 3, 1, 1), Error);
  EXPECT_THROW(unpermute_qk_rows({1, 2, 3, 4}, 4, 1, 3), Error);
}

}  // namespace
}  // namespace abq::io

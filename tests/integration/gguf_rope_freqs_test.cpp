// A GGUF with Llama 3.1's rope_freqs.weight loads end to end (config + weights). The file is written
// here by tests/unit/io/gguf_writer.h from a seeded random model (F32 tensors, Q/K rows permuted as
// llama.cpp's converter does). Expected values: the same model built in memory with
// RopeScaling::freq_divisors set to the file's divisors, and, for divisors of 1, the model without
// any: θ_i ÷ 1 = θ_i.
#include <gtest/gtest.h>
#include <unistd.h>

#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/checkpoint_loader.h"
#include "tests/unit/io/gguf_writer.h"

namespace {

using namespace abq;

model::LlamaConfig tiny_config() {
  model::LlamaConfig c;
  c.vocab_size = 40;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.max_position = 64;
  c.rms_eps = 1e-5;
  c.rope_theta = 10000.0;
  return c;
}

std::vector<float> values_of(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// One F32 tensor; GGUF lists ne[0] (the row length) first. Q / K rows get llama.cpp's interleave.
void add_tensor(io::testing::GgufWriter& w, const std::string& name, const torch::Tensor& t, int64_t qk_heads = 0) {
  std::vector<float> v = values_of(t);
  if (qk_heads > 0) v = io::permute_qk_rows(v, t.size(0), t.size(1), qk_heads);
  std::vector<uint64_t> ne;
  for (int64_t d = t.dim() - 1; d >= 0; --d) ne.push_back(uint64_t(t.size(d)));
  w.tensor(name, ne, /*F32*/ 0, io::testing::f32_bytes(v));
}

std::string write_gguf(const model::LlamaModel& m, const std::vector<float>& rope_freqs) {
  const auto& c = m.config();
  const auto& w = m.weights();
  io::testing::GgufWriter g;
  g.kv_str("general.architecture", "llama");
  g.kv_u32("llama.context_length", 64);
  g.kv_u32("llama.embedding_length", 32);
  g.kv_u32("llama.block_count", 2);
  g.kv_u32("llama.feed_forward_length", 48);
  g.kv_u32("llama.attention.head_count", 4);
  g.kv_u32("llama.attention.head_count_kv", 2);
  g.kv_f32("llama.rope.freq_base", 10000.0f);
  g.kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  g.kv_u32("llama.vocab_size", 40);
  add_tensor(g, "token_embd.weight", w.embed_tokens);
  add_tensor(g, "output_norm.weight", w.norm);
  add_tensor(g, "output.weight", w.lm_head);
  add_tensor(g, "rope_freqs.weight", torch::tensor(rope_freqs));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const auto& b = w.layers[size_t(i)];
    const std::string p = "blk." + std::to_string(i) + ".";
    add_tensor(g, p + "attn_norm.weight", b.input_norm);
    add_tensor(g, p + "ffn_norm.weight", b.post_attention_norm);
    add_tensor(g, p + "attn_q.weight", b.q_proj.weight, c.num_heads);
    add_tensor(g, p + "attn_k.weight", b.k_proj.weight, c.num_kv_heads);
    add_tensor(g, p + "attn_v.weight", b.v_proj.weight);
    add_tensor(g, p + "attn_output.weight", b.o_proj.weight);
    add_tensor(g, p + "ffn_gate.weight", b.gate_proj.weight);
    add_tensor(g, p + "ffn_up.weight", b.up_proj.weight);
    add_tensor(g, p + "ffn_down.weight", b.down_proj.weight);
  }
  const std::string path = ::testing::TempDir() + "abq_rope_freqs_" + std::to_string(::getpid()) + ".gguf";
  io::testing::write_file(path, g.build());
  return path;
}

model::LlamaModel load(const std::string& path) {
  const auto file = io::GgufFile::open(path);
  const auto config = io::llama_config_from_gguf(file);
  return model::LlamaModel(config, pipeline::weights_from_gguf(file, config, torch::kFloat32));
}

TEST(GgufRopeFreqs, LoadsAndDividesTheRopeFrequencies) {
  torch::NoGradGuard no_grad;
  auto config = tiny_config();
  config.tie_embeddings = false;
  const auto reference = model::make_random_model(config, 3);
  const auto tokens = torch::randint(0, 40, {1, 12}, at::detail::createCPUGenerator(4), torch::kLong);
  const auto plain = reference.forward(tokens);

  const auto ones = load(write_gguf(reference, std::vector<float>(4, 1.0f)));  // head_dim 8 -> 4 frequencies
  EXPECT_TRUE(torch::allclose(ones.forward(tokens), plain, 1e-5, 1e-6));

  const std::vector<float> divisors = {1.0f, 1.0f, 2.0f, 8.0f};
  const auto scaled = load(write_gguf(reference, divisors));
  EXPECT_EQ(scaled.config().rope_scaling.freq_divisors, std::vector<double>({1, 1, 2, 8}));
  auto expected_config = reference.config();
  expected_config.rope_scaling.freq_divisors = {1, 1, 2, 8};
  const model::LlamaModel expected(expected_config, reference.weights());
  const auto logits = scaled.forward(tokens);
  EXPECT_TRUE(torch::allclose(logits, expected.forward(tokens), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(logits, plain, 1e-5, 1e-6));  // the divisors matter
}

}  // namespace

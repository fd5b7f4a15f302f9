// Expected values: logits computed by Hugging Face transformers (float32, eager attention) for tiny
// random checkpoints, written by tools/fixtures/parity_make_hf.py into tests/fixtures/parity/<name>/
// (config.json, model.safetensors, tokens.txt, logits.f32). The C++ path under test is
// io::llama_config_from_hf -> pipeline::weights_from_safetensors -> model::LlamaModel::forward.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "framework/io/hf_config.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/checkpoint_loader.h"

namespace abq {
namespace {

const std::string kDir = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/parity/";
constexpr double kTolerance = 1e-4;

// tokens.txt: one batch row per line, ids separated by spaces -> [B, T] int64.
torch::Tensor read_tokens(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<std::vector<int64_t>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    rows.emplace_back();
    int64_t id;
    while (fields >> id) rows.back().push_back(id);
  }
  EXPECT_FALSE(rows.empty()) << path;
  const int64_t B = static_cast<int64_t>(rows.size()), T = static_cast<int64_t>(rows[0].size());
  auto out = torch::empty({B, T}, torch::kLong);
  for (int64_t b = 0; b < B; ++b) {
    EXPECT_EQ(static_cast<int64_t>(rows[b].size()), T) << path << " row " << b;
    for (int64_t t = 0; t < T; ++t) out[b][t] = rows[b][t];
  }
  return out;
}

// Raw little-endian float32 values.
std::vector<float> read_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  EXPECT_TRUE(in) << "cannot open " << path;
  const auto bytes = static_cast<size_t>(in.tellg());
  std::vector<float> values(bytes / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
  return values;
}

struct Loaded {
  model::LlamaConfig config;
  torch::Tensor tokens;    // [B, T]
  torch::Tensor expected;  // [B, T, V]
};

Loaded load(const std::string& name) {
  Loaded out;
  out.config = io::llama_config_from_hf(kDir + name + "/config.json");
  out.tokens = read_tokens(kDir + name + "/tokens.txt");
  auto values = read_f32(kDir + name + "/logits.f32");
  const int64_t B = out.tokens.size(0), T = out.tokens.size(1), V = out.config.vocab_size;
  EXPECT_EQ(static_cast<int64_t>(values.size()), B * T * V) << name << ": logits.f32 size";
  out.expected = torch::from_blob(values.data(), {B, T, V}, torch::kFloat32).clone();
  return out;
}

double forward_max_diff(const Loaded& f, const model::LlamaConfig& config, const std::string& name) {
  model::LlamaModel m(config, pipeline::weights_from_safetensors(kDir + name, config, torch::kFloat32));
  torch::NoGradGuard no_grad;
  auto logits = m.forward(f.tokens);
  EXPECT_EQ(logits.sizes(), f.expected.sizes()) << name;
  return (logits - f.expected).abs().max().item<double>();
}

class HfParity : public ::testing::TestWithParam<std::string> {};

TEST_P(HfParity, LogitsMatchTransformers) {
  const std::string name = GetParam();
  Loaded f = load(name);
  // Reference logits are O(1) or larger, so the tolerance is far below any real difference.
  ASSERT_GT(f.expected.abs().max().item<double>(), 1.0) << name;
  const double diff = forward_max_diff(f, f.config, name);
  RecordProperty("max_abs_diff", std::to_string(diff));
  std::printf("[parity] %s: max |logits - transformers| = %.3g\n", name.c_str(), diff);
  EXPECT_LE(diff, kTolerance) << name;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HfParity,
                         ::testing::Values("llama_mha_untied", "llama_gqa_tied", "qwen2_bias", "mistral_head_dim",
                                           "llama3_rope"),
                         [](const auto& info) { return info.param; });

// Each fixture exercises the feature it is named after (so the parity above covers it).
TEST(HfParityFixtures, ConfigsCoverTheirFeatures) {
  auto mha = io::llama_config_from_hf(kDir + "llama_mha_untied/config.json");
  EXPECT_EQ(mha.num_kv_heads, mha.num_heads);
  EXPECT_FALSE(mha.tie_embeddings);

  auto gqa = io::llama_config_from_hf(kDir + "llama_gqa_tied/config.json");
  EXPECT_LT(gqa.num_kv_heads, gqa.num_heads);
  EXPECT_TRUE(gqa.tie_embeddings);

  auto qwen = io::llama_config_from_hf(kDir + "qwen2_bias/config.json");
  EXPECT_EQ(qwen.model_type, "qwen2");
  EXPECT_TRUE(qwen.attention_bias);

  auto mistral = io::llama_config_from_hf(kDir + "mistral_head_dim/config.json");
  EXPECT_EQ(mistral.model_type, "mistral");
  EXPECT_NE(mistral.head_dim * mistral.num_heads, mistral.hidden_size);

  auto llama3 = io::llama_config_from_hf(kDir + "llama3_rope/config.json");
  EXPECT_EQ(llama3.rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(llama3.rope_scaling.factor, 8.0);
  EXPECT_EQ(llama3.rope_scaling.original_max_position, 64);
}

// The llama3 fixture is sensitive to its rope scaling: dropping it moves the logits far past the
// tolerance, so the parity test above would catch a wrong scaling rule.
TEST(HfParityFixtures, Llama3RopeScalingMatters) {
  Loaded f = load("llama3_rope");
  auto unscaled = f.config;
  unscaled.rope_scaling = model::RopeScaling{};
  EXPECT_GT(forward_max_diff(f, unscaled, "llama3_rope"), 100 * kTolerance);
}

}  // namespace
}  // namespace abq

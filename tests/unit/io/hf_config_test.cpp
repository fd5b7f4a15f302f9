// HF config.json -> LlamaConfig. Expected values: the published config.json files of
// meta-llama/Llama-2-7b-hf, meta-llama/Llama-3.1-8B, mistralai/Mistral-7B-v0.1 and
// Qwen/Qwen2-0.5B (numbers copied into the JSON below and asserted back).
#include "framework/io/hf_config.h"

#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "tests/unit/io/gguf_writer.h"

namespace abq::io {
namespace {

using namespace abq::io::testing;

model::LlamaConfig load(const std::string& name, const std::string& json) {
  const std::string path = temp_path(name);
  write_text(path, json);
  return llama_config_from_hf(path);
}

std::string error_of(const std::string& name, const std::string& json) {
  try {
    load(name, json);
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(HfConfig, Llama2) {
  const auto c = load("llama2.json", R"({"architectures": ["LlamaForCausalLM"], "bos_token_id": 1,
    "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 11008,
    "max_position_embeddings": 4096, "model_type": "llama", "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 32, "rms_norm_eps": 1e-05, "rope_scaling": null,
    "tie_word_embeddings": false, "vocab_size": 32000})");
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.vocab_size, 32000);
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.intermediate_size, 11008);
  EXPECT_EQ(c.num_layers, 32);
  EXPECT_EQ(c.num_heads, 32);
  EXPECT_EQ(c.num_kv_heads, 32);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.max_position, 4096);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rms_eps, 1e-5);
  EXPECT_EQ(c.rope_scaling.type, "none");
  EXPECT_FALSE(c.tie_embeddings);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_id, 2);
}

TEST(HfConfig, Llama31RopeScalingAndEosList) {
  const auto c = load("llama31.json", R"({"model_type": "llama", "vocab_size": 128256, "hidden_size": 4096,
    "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
    "max_position_embeddings": 131072, "rope_theta": 500000.0, "rms_norm_eps": 1e-05,
    "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "head_dim": 128,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"}})");
  EXPECT_EQ(c.num_kv_heads, 8);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_EQ(c.rope_scaling.low_freq_factor, 1.0);
  EXPECT_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling.original_max_position, 8192);
  EXPECT_EQ(c.eos_token_id, 128001);
  EXPECT_EQ(c.head_dim, 128);
}

// transformers >= 5 writes rope settings as one `rope_parameters` object; the values must match
// the Llama-3.1 config above written the older way.
TEST(HfConfig, RopeParametersOfTransformers5) {
  const auto c = load("llama31_v5.json", R"({"model_type": "llama", "vocab_size": 128256, "hidden_size": 4096,
      "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
      "rope_parameters": {"rope_theta": 500000.0, "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                          "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}})");
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling.original_max_position, 8192);
}

TEST(HfConfig, MistralQwen2AndLinearScaling) {
  const auto m = load("mistral.json", R"({"model_type": "mistral", "vocab_size": 32000, "hidden_size": 4096,
    "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
    "max_position_embeddings": 32768, "rope_theta": 10000.0, "rms_norm_eps": 1e-05, "sliding_window": 4096})");
  EXPECT_EQ(m.model_type, "mistral");
  EXPECT_EQ(m.num_kv_heads, 8);
  EXPECT_EQ(m.max_position, 32768);
  const auto q = load("qwen2.json", R"({"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896,
    "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
    "max_position_embeddings": 131072, "rope_theta": 1000000.0, "rms_norm_eps": 1e-06,
    "tie_word_embeddings": true, "bos_token_id": 151643, "eos_token_id": 151643})");
  EXPECT_TRUE(q.attention_bias);
  EXPECT_TRUE(q.tie_embeddings);
  EXPECT_EQ(q.head_dim, 64);
  EXPECT_EQ(q.rms_eps, 1e-6);
  const auto l = load("linear.json", R"({"model_type": "llama", "vocab_size": 10, "hidden_size": 8,
    "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
    "rope_scaling": {"type": "linear", "factor": 2.0}})");
  EXPECT_EQ(l.num_kv_heads, 2);  // defaults to num_attention_heads
  EXPECT_EQ(l.rope_scaling.type, "linear");
  EXPECT_EQ(l.rope_scaling.factor, 2.0);
  EXPECT_EQ(l.rms_eps, 1e-6);
  EXPECT_EQ(l.bos_token_id, -1);
}

// A rope_scaling nested a million levels deep overflowed the stack in dump() while its "must be an
// object" message was formatted; a key given twice silently kept its last value.
TEST(HfConfig, DeepNestingAndRepeatedKeysAreErrors) {
  const std::string base = R"("model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
    "num_attention_heads": 2)";
  const size_t depth = 1000000;
  EXPECT_EQ(error_of("deep.json", "{" + base + R"(, "num_hidden_layers": 1, "rope_scaling": )" +
                                      std::string(depth, '[') + std::string(depth, ']') + "}"),
            temp_path("deep.json") + " nests JSON deeper than 64 levels");
  EXPECT_EQ(error_of("twice.json", "{" + base + R"(, "num_hidden_layers": 1, "num_hidden_layers": 2})"),
            temp_path("twice.json") + " has key 'num_hidden_layers' twice in one JSON object");
  std::string wide = "[";
  for (int i = 0; i < 10000; ++i) wide += "1,";
  wide += "1]";
  const std::string msg = error_of("wide.json", "{" + base + R"(, "num_hidden_layers": 1, "rope_scaling": )" + wide + "}");
  EXPECT_EQ(msg.rfind(temp_path("wide.json") + ": 'rope_scaling' must be an object or null, got [1,1,1,", 0), 0u) << msg;
  EXPECT_LT(msg.size(), 400u);
}

TEST(HfConfig, ErrorsNameFileKeyAndAllowedValues) {
  const std::string base = R"("vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
    "num_hidden_layers": 1, "num_attention_heads": 2)";
  EXPECT_EQ(error_of("gemma.json", "{\"model_type\": \"gemma\", " + base + "}"),
            temp_path("gemma.json") + ": model_type 'gemma' is not supported; supported: llama, mistral, qwen2");
  EXPECT_EQ(error_of("yarn.json", "{\"model_type\": \"llama\", " + base +
                                      ", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}}"),
            temp_path("yarn.json") + ": rope_scaling type 'yarn' is not supported; supported: default, llama3, linear");
  EXPECT_EQ(error_of("nolayers.json", R"({"model_type": "llama", "vocab_size": 10, "hidden_size": 8,
    "intermediate_size": 16, "num_attention_heads": 2})"),
            temp_path("nolayers.json") + ": missing required key 'num_hidden_layers'");
  EXPECT_EQ(error_of("strsize.json", "{\"model_type\": \"llama\", " + base + ", \"num_key_value_heads\": \"2\"}"),
            temp_path("strsize.json") + ": 'num_key_value_heads' must be an integer, got \"2\"");
  EXPECT_NE(error_of("gqa.json", "{\"model_type\": \"llama\", " + base + ", \"num_key_value_heads\": 3}")
                .find("num_key_value_heads 3 (all must be positive, heads a multiple of key/value heads)"),
            std::string::npos);
  EXPECT_EQ(error_of("eps.json", "{\"model_type\": \"llama\", " + base + ", \"rms_norm_eps\": 0}"),
            temp_path("eps.json") + ": 'rms_norm_eps' is 0; expected a finite value in (0, 1), e.g. 1e-5");
  EXPECT_EQ(error_of("theta.json", "{\"model_type\": \"llama\", " + base + ", \"rope_theta\": 1e-30}"),
            temp_path("theta.json") + ": 'rope_theta' is 1e-30; expected a finite value in (1, 1e12], e.g. 10000");
  EXPECT_EQ(error_of("theta5.json", "{\"model_type\": \"llama\", " + base +
                                        ", \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 0.5}}"),
            temp_path("theta5.json") +
                ": 'rope_parameters.rope_theta' is 0.5; expected a finite value in (1, 1e12], e.g. 10000");
  EXPECT_EQ(error_of("ctx.json", "{\"model_type\": \"llama\", " + base + ", \"max_position_embeddings\": 0}"),
            temp_path("ctx.json") + ": 'max_position_embeddings' is 0; expected a positive context length");
  EXPECT_NE(error_of("badjson.json", "{\"model_type\": ").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("emptyjson.json", "").find("not valid JSON"), std::string::npos);
  try {
    llama_config_from_hf(temp_path("no_such_config.json"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "cannot open model config '" + temp_path("no_such_config.json") + "'");
  }
}

}  // namespace
}  // namespace abq::io

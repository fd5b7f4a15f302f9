// Tensor names of a safetensors checkpoint are parsed strictly onto the model: a layer index must
// be plain decimal (std::stoll took "1e0" as layer 1, so model.layers.1e0.mlp.up_proj.weight
// silently replaced layer 1's up_proj; "01" and "1" would name one layer twice), a name the model
// does not know is an error naming the tensor and file, and a layer count that does not match the
// checkpoint an error before anything is allocated. Expected values: the names and
// the file written here; the message text is pinned.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "framework/core/error.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/checkpoint_loader.h"
#include "tests/support/tiny_llama_config.h"
#include "tests/unit/io/gguf_writer.h"

namespace {

using namespace abq;
using io::testing::SafetensorsEntry;

SafetensorsEntry f32_entry(const std::string& name, const torch::Tensor& t) {
  auto c = t.to(torch::kFloat32).contiguous();
  std::string shape = "[";
  for (int64_t i = 0; i < c.dim(); ++i) shape += (i ? ", " : "") + std::to_string(c.size(i));
  const auto* p = static_cast<const uint8_t*>(c.data_ptr());
  return {name, "F32", shape + "]", std::vector<uint8_t>(p, p + c.numel() * 4)};
}

// Every tensor of a tiny 2-layer model under its HF name.
std::vector<SafetensorsEntry> model_entries(const model::LlamaModel& m) {
  const auto& w = m.weights();
  std::vector<SafetensorsEntry> out{f32_entry("model.embed_tokens.weight", w.embed_tokens),
                                    f32_entry("model.norm.weight", w.norm), f32_entry("lm_head.weight", w.lm_head)};
  const char* linears[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                           "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
  for (size_t layer = 0; layer < w.layers.size(); ++layer) {
    const auto& b = w.layers[layer];
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    out.push_back(f32_entry(p + "input_layernorm.weight", b.input_norm));
    out.push_back(f32_entry(p + "post_attention_layernorm.weight", b.post_attention_norm));
    for (size_t k = 0; k < 7; ++k)
      out.push_back(f32_entry(p + linears[k] + ".weight", b.linear(model::all_linear_kinds()[k]).weight));
  }
  return out;
}

class CheckpointNames : public ::testing::Test {
 protected:
  model::LlamaConfig config = test::tiny_llama_config(2);
  model::LlamaModel reference = model::make_random_model(config, 3);
  std::string path = ::testing::TempDir() + "abq_names_" + std::to_string(::getpid()) + ".safetensors";

  // Loads the model's tensors plus `extra` (a copy of layer 0's up_proj under another name).
  std::string load_error(const std::string& extra_name, const model::LlamaConfig& cfg) {
    auto entries = model_entries(reference);
    if (!extra_name.empty()) entries.push_back(f32_entry(extra_name, reference.weights().layers[0].up_proj.weight));
    io::testing::write_file(path, io::testing::safetensors_bytes(entries));
    try {
      pipeline::weights_from_safetensors(path, cfg, torch::kFloat32);
      pipeline::streamed_weights_from_safetensors(path, cfg, torch::kFloat32);
    } catch (const Error& e) {
      return e.what();
    }
    return "<no error>";
  }
  void TearDown() override { std::filesystem::remove(path); }
};

TEST_F(CheckpointNames, LayerIndexMustBePlainDecimal) {
  for (const std::string index : {"1e0", "x", "01", "+1", "-1", "", "1 ", "99999999999999999999"}) {
    const std::string name = "model.layers." + index + ".mlp.up_proj.weight";
    EXPECT_EQ(load_error(name, config),
              path + ": tensor '" + name + "' has layer index '" + index +
                  "', not a decimal number without sign or leading zeros (expected model.layers.<0..1>.<tensor>)")
        << name;
  }
  EXPECT_EQ(load_error("model.layers.2.mlp.up_proj.weight", config),
            path + ": num_hidden_layers is 2 but the checkpoint holds tensors for 3 decoder layers (0 .. 2)");
}

TEST_F(CheckpointNames, UnknownTensorsAreErrorsAndInverseFrequenciesAreSkipped) {
  const std::string known = " is not a tensor of a LLaMA-family model (known: model.embed_tokens.weight, ";
  for (const std::string name : {"model.layers.1.mlp.up_projj.weight", "model.layers.1.self_attn.q_norm.weight",
                                 "model.embed_positions.weight"}) {
    const std::string msg = load_error(name, config);
    EXPECT_EQ(msg.rfind(path + ": tensor '" + name + "'" + known, 0), 0u) << msg;
  }
  EXPECT_EQ(load_error("model.layers.1.self_attn.rotary_emb.inv_freq", config), "<no error>");
  EXPECT_EQ(load_error("", config), "<no error>");
  // What loads is the checkpoint, tensor for tensor.
  const auto w = pipeline::weights_from_safetensors(path, config, torch::kFloat32);
  EXPECT_TRUE(torch::equal(w.layers[1].up_proj.weight, reference.weights().layers[1].up_proj.weight));
}

// A corrupted num_hidden_layers (2^31 - 1) used to end in std::bad_alloc / length_error.
TEST_F(CheckpointNames, LayerCountMustMatchTheCheckpoint) {
  for (const int64_t layers : {int64_t(2147483647), int64_t(3), int64_t(1)}) {
    auto cfg = config;
    cfg.num_layers = layers;
    EXPECT_EQ(load_error("", cfg), path + ": num_hidden_layers is " + std::to_string(layers) +
                                       " but the checkpoint holds tensors for 2 decoder layers (0 .. 1)");
  }
}

}  // namespace

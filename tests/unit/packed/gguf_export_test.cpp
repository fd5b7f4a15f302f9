// GGUF export of an RTN-quantized tiny model (C 96, F 192: every K a multiple of 32): w4g32
// asymmetric -> Q4_1, symmetric -> Q4_0, symmetric w8g32 -> Q8_0. References: abq's own GGUF
// reader and its ggml block decoders (io/gguf.h, io/gguf_dequant.h, themselves checked against
// hand-built blocks) read the file back, and the quantizer's codes dequantized with fp16-rounded
// scales, d·code (+ m), give every linear; embeddings and norms come back as written. The simulated
// weights (fp32 scales) differ from those by the fp16 rounding of the scales only, which
// adopt_gguf_weights removes. Specs GGUF has no block for are refused naming the site and spec.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "experiments/runner/load_experiment.h"
#include "experiments/runner/run_experiment.h"
#include "framework/core/error.h"
#include "framework/io/gguf.h"
#include "framework/io/gguf_config.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/checkpoint_loader.h"
#include "framework/pipeline/gguf_export.h"
#include "framework/pipeline/model_loader.h"
#include "framework/pipeline/quantize_model.h"

namespace abq {
namespace {

const std::string kFixture = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/tiny_packed.yaml";

pipeline::ExperimentSpec spec_with(std::vector<std::string> set) {
  set.insert(set.end(), {"quant.execution=simulated", "quant.activations.bits=16", "quant.weights.granularity=per_group",
                         "quant.weights.group_size=32"});
  return runner::load_experiment(kFixture, set).front();
}

std::string temp_path(const std::string& stem) {
  return ::testing::TempDir() + "/abq_" + stem + "_" + std::to_string(getpid()) + ".gguf";
}

struct Case {
  const char* name;
  std::vector<std::string> set;
  io::GgmlType type;
};

TEST(GgufExport, RoundTripGivesTheExportedWeightsBitForBit) {
  torch::NoGradGuard no_grad;
  const std::vector<Case> cases = {{"w4g32 asym", {"quant.weights.bits=4"}, io::GgmlType::Q4_1},
                                   {"w4g32 sym", {"quant.weights.bits=4", "quant.weights.symmetric=true"}, io::GgmlType::Q4_0},
                                   {"w8g32 sym", {"quant.weights.bits=8", "quant.weights.symmetric=true"}, io::GgmlType::Q8_0}};
  for (const auto& c : cases) {
    const auto spec = spec_with(c.set);
    auto loaded = pipeline::load_model(spec);
    auto& m = *loaded.model;
    const auto report = pipeline::quantize_model(m, spec.quant, {});
    ASSERT_EQ(report.weights.size(), 14u) << c.name;
    const auto simulated = m.weights().layers[1].down_proj.weight.clone();
    const std::string path = temp_path("gguf_export");
    pipeline::export_gguf(m, report.weights, "", path);

    const auto file = io::GgufFile::open(path);
    EXPECT_EQ(file.tensor("blk.1.ffn_down.weight").type, c.type) << c.name;
    EXPECT_EQ(file.tensor("blk.0.attn_norm.weight").type, io::GgmlType::F32) << c.name;
    EXPECT_EQ(file.tensor("blk.1.ffn_down.weight").size_bytes,
              uint64_t(96 * 192 / 32 * io::ggml_type_traits(uint32_t(c.type)).block_bytes)) << c.name;
    // The hyperparameters read back into the same config.
    const auto config = io::llama_config_from_gguf(file);
    EXPECT_EQ(config.hidden_size, m.config().hidden_size);
    EXPECT_EQ(config.intermediate_size, m.config().intermediate_size);
    EXPECT_EQ(config.num_layers, m.config().num_layers);
    EXPECT_EQ(config.num_heads, m.config().num_heads);
    EXPECT_EQ(config.num_kv_heads, m.config().num_kv_heads);
    EXPECT_EQ(config.vocab_size, m.config().vocab_size);
    EXPECT_EQ(config.tie_embeddings, m.config().tie_embeddings);

    // Every linear of the file (Q/K rows un-interleaved by the loader) equals its kept blocks, and
    // the simulated weight up to the fp16 rounding of the scales (< 2^-9 of the largest |w|).
    const auto back = pipeline::weights_from_gguf(file, config, torch::kFloat32);
    for (size_t layer = 0; layer < back.layers.size(); ++layer)
      for (model::LinearKind kind : model::all_linear_kinds()) {
        const auto& lin = m.weights().layers[layer].linear(kind);
        ASSERT_TRUE(lin.packed) << c.name;
        const auto exported = back.layers[layer].linear(kind).weight;
        EXPECT_TRUE(torch::equal(exported, lin.packed->dequantized())) << c.name << " layer " << layer;
        const double diff = (exported - lin.weight).abs().max().item<double>();
        EXPECT_LT(diff, std::ldexp(1.0, -9) * lin.weight.abs().max().item<double>()) << c.name << " layer " << layer;
      }
    EXPECT_TRUE(torch::equal(back.embed_tokens, m.weights().embed_tokens)) << c.name;
    EXPECT_TRUE(torch::equal(back.layers[0].input_norm, m.weights().layers[0].input_norm)) << c.name;
    EXPECT_TRUE(torch::equal(back.norm, m.weights().norm)) << c.name;

    // After adopting the exported weights the model is the file, bit for bit.
    const double moved = pipeline::adopt_gguf_weights(m);
    EXPECT_GT(moved, 0) << c.name;  // fp16 scales do round
    EXPECT_TRUE(torch::equal(back.layers[1].down_proj.weight, m.weights().layers[1].down_proj.weight)) << c.name;
    EXPECT_TRUE(torch::equal(back.layers[0].q_proj.weight, m.weights().layers[0].q_proj.weight)) << c.name;
    EXPECT_FALSE(torch::equal(simulated, m.weights().layers[1].down_proj.weight)) << c.name;
    std::remove(path.c_str());
  }
}

void expect_refused(const std::vector<std::string>& set, const std::string& message) {
  torch::NoGradGuard no_grad;
  const auto spec = runner::load_experiment(kFixture, set).front();
  auto loaded = pipeline::load_model(spec);
  const auto report = pipeline::quantize_model(*loaded.model, spec.quant, {});
  try {
    pipeline::export_gguf(*loaded.model, report.weights, "", temp_path("gguf_refused"));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

TEST(GgufExport, SpecsWithoutAGgufTypeAreRefusedNamingSiteAndSpec) {
  const std::vector<std::string> base = {"quant.execution=simulated", "quant.activations.bits=16",
                                         "quant.weights.granularity=per_group"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), base.begin(), base.end());
    return more;
  };
  expect_refused(with({"quant.weights.bits=3", "quant.weights.group_size=32"}),
                 "export (gguf): layers.0.self_attn.q_proj.weight (w3g32) has no GGUF type: GGUF blocks hold w4g32 "
                 "(Q4_0 symmetric, Q4_1 asymmetric) and symmetric w8g32 (Q8_0)");
  expect_refused(with({"quant.weights.bits=4", "quant.weights.group_size=64"}),
                 "layers.0.self_attn.q_proj.weight (w4g64) has no GGUF type");
  expect_refused(with({"quant.weights.bits=8", "quant.weights.group_size=32"}),  // asymmetric 8-bit: no Q8_1 export
                 "layers.0.self_attn.q_proj.weight (w8g32) has no GGUF type");
}

// `export: PATH.gguf` in a run: the file is written and the run evaluates the exported weights.
TEST(GgufExport, RunExportsAGgufFile) {
  const std::string dir = ::testing::TempDir() + "/abq_gguf_run_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  runner::RunOptions run;
  run.results_path = dir + "/run.h5";
  run.overrides = {"export=" + dir + "/tiny.gguf", "quant.execution=simulated", "quant.activations.bits=16",
                   "quant.weights.granularity=per_group", "quant.weights.group_size=32"};
  ASSERT_EQ(runner::run_experiment(kFixture, run).completed, 1);
  const auto file = io::GgufFile::open(dir + "/tiny.gguf");
  EXPECT_EQ(file.tensor("blk.0.ffn_gate.weight").type, io::GgmlType::Q4_1);
  EXPECT_EQ(file.get_string("general.architecture"), "llama");
  // Activations quantized too: a GGUF holds weights only, so the run is refused before writing.
  runner::RunOptions with_activations = run;
  with_activations.results_path = dir + "/run2.h5";
  with_activations.overrides = {"export=" + dir + "/a8.gguf", "quant.execution=simulated", "quant.activations.bits=8",
                                "quant.weights.granularity=per_group", "quant.weights.group_size=32"};
  EXPECT_EQ(runner::run_experiment(kFixture, with_activations).failed, 1);
  EXPECT_FALSE(std::filesystem::exists(dir + "/a8.gguf"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace abq

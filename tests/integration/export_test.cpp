// Export: a quantized run writes an HF-style folder (model.safetensors, config.json,
// abq_quant.json) and `abq eval --model FOLDER` reproduces the run's perplexity. The reference is
// the run itself: the exported folder holds the same fake-quantized fp32 weights and the same
// dynamic activation specs, so the perplexity must come back to float rounding.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "experiments/runner/run_experiment.h"
#include "framework/core/error.h"
#include "framework/io/safetensors.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/export_model.h"
#include "framework/pipeline/quantize_model.h"
#include "framework/store/results_store.h"

namespace fs = std::filesystem;

namespace {

const std::string kFixture = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/tiny_pipeline.yaml";

std::string temp_dir() {
  std::string dir = ::testing::TempDir() + "/abq_export_" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// The perplexity of every run stored in `results` (`abq eval` keeps one run per distinct config).
std::vector<double> stored_ppl(const std::string& results) {
  abq::store::ResultsStore store(results);
  std::vector<double> out;
  for (const auto& run : store.read_all())
    for (const auto& m : run.metrics)
      if (m.metric == "ppl") out.push_back(m.value);
  EXPECT_FALSE(out.empty()) << "no ppl in " << results;
  return out;
}

int run_cli(const std::string& args) {
  const std::string command = std::string(ABQ_BINARY) + " " + args + " > /dev/null 2>&1";
  return std::system(command.c_str());
}

}  // namespace

TEST(Export, RunThenEvalReproducesThePerplexity) {
  const std::string dir = temp_dir(), folder = dir + "/w4a8";
  abq::runner::RunOptions run;
  run.results_path = dir + "/run.h5";
  run.only = "rtn-w4a8";
  run.overrides = {"export=" + folder};
  ASSERT_EQ(abq::runner::run_experiment(kFixture, run).completed, 1);
  for (const char* f : {"model.safetensors", "config.json", "abq_quant.json"})
    EXPECT_TRUE(fs::is_regular_file(folder + "/" + f)) << f;
  abq::pipeline::ExportedQuant q;
  ASSERT_TRUE(abq::pipeline::read_exported_quant(folder, q));
  EXPECT_EQ(q.setting, "W4A8KV16");
  EXPECT_EQ(q.activations.size(), 14u);  // 2 layers x 7 linear inputs; Q/K/V stay at 16 bits
  EXPECT_EQ(q.activations.at("layers.1.mlp.down_proj.input").bits, 8);

  const auto run_ppl = stored_ppl(run.results_path);
  ASSERT_EQ(run_ppl.size(), 1u);
  const double quantized = run_ppl[0];
  ASSERT_EQ(run_cli("eval -q " + kFixture + " --model " + folder + " --results " + dir + "/eval.h5"), 0);
  for (double ppl : stored_ppl(dir + "/eval.h5")) EXPECT_NEAR(ppl, quantized, 1e-6 * quantized);
  // Without abq_quant.json the folder is a weight-only model: a different perplexity.
  fs::remove(folder + "/abq_quant.json");
  ASSERT_EQ(run_cli("eval -q " + kFixture + " --model " + folder + " --results " + dir + "/weights_only.h5"), 0);
  for (double ppl : stored_ppl(dir + "/weights_only.h5")) EXPECT_GT(std::abs(ppl - quantized), 1e-6 * quantized);
  fs::remove_all(dir);
}

// abq_quant.json comes from a folder anyone may have edited: it is read with the limits of every
// model JSON (core/bounded_json.h) and must be a regular file.
TEST(Export, AHostileQuantFileIsRefusedByName) {
  const std::string dir = temp_dir();
  fs::create_directories(dir);
  auto error_of = [&] {
    abq::pipeline::ExportedQuant q;
    try {
      abq::pipeline::read_exported_quant(dir, q);
    } catch (const abq::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  abq::pipeline::ExportedQuant none;
  EXPECT_FALSE(abq::pipeline::read_exported_quant(dir, none));  // no file: a plain model folder
  std::ofstream(dir + "/abq_quant.json") << "{\"activations\": " << std::string(50000, '[') << std::string(50000, ']') << "}";
  EXPECT_NE(error_of().find("abq_quant.json nests JSON deeper than 64 levels"), std::string::npos) << error_of();
  std::ofstream(dir + "/abq_quant.json") << R"({"format": "abq_quant", "format": "x"})";
  EXPECT_NE(error_of().find("has key 'format' twice"), std::string::npos) << error_of();
  fs::remove(dir + "/abq_quant.json");
  ASSERT_EQ(mkfifo((dir + "/abq_quant.json").c_str(), 0600), 0);
  EXPECT_NE(error_of().find("a FIFO"), std::string::npos) << error_of();
  fs::remove_all(dir);
}

// Which activation quantizers let a shared context run once (quant/fake_quant.h's range shapes):
// per_token and per_group ranges belong to one token's vector, static ranges to no forward at all.
TEST(Export, TokenLocalRule) {
  using abq::quant::Granularity;
  abq::quant::QuantSpec s;
  s.bits = 8;
  const std::pair<Granularity, bool> dynamic_cases[] = {{Granularity::per_token, true}, {Granularity::per_group, true},
                                                        {Granularity::per_tensor, false}, {Granularity::per_head, false},
                                                        {Granularity::per_channel, false}};
  for (const auto& [g, local] : dynamic_cases) {
    s.granularity = g;
    s.dynamic = true;
    EXPECT_EQ(abq::pipeline::token_local(s), local) << abq::quant::to_string(g);
    s.dynamic = false;
    EXPECT_TRUE(abq::pipeline::token_local(s)) << "static " << abq::quant::to_string(g);
  }
  s.bits = 16;
  s.granularity = Granularity::per_tensor;
  s.dynamic = true;
  EXPECT_TRUE(abq::pipeline::token_local(s));  // not quantized
}

// What an HF LLaMA folder cannot hold is refused with the layer named, before any file is written:
// an online transform (rotation, AffineQuant matrices) and a norm input bias (learned shifts).
TEST(Export, RefusesOnlineTransformsAndNormInputBiases) {
  abq::model::LlamaConfig c;
  c.vocab_size = 32;
  c.hidden_size = 16;
  c.intermediate_size = 32;
  c.num_layers = 2;
  c.num_heads = 2;
  c.num_kv_heads = 2;
  const auto fp = abq::model::make_random_model(c, 3, torch::kFloat32);
  auto expect_refused = [](const abq::model::LlamaModel& m, const std::string& what) {
    const std::string dir = temp_dir() + "/refused";
    try {
      abq::pipeline::export_model(m, {}, dir);
      ADD_FAILURE() << "exported a model with " << what;
    } catch (const abq::Error& e) {
      EXPECT_NE(std::string(e.what()).find("layer 1"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir + "/model.safetensors"));
    fs::remove_all(fs::path(dir).parent_path());
  };
  auto rotated = fp;
  rotated.weights().layers[1].mlp_input_transform = torch::eye(16);
  expect_refused(rotated, "online transforms");
  auto shifted = fp;
  shifted.weights().layers[1].attn_input_bias = torch::zeros({16});
  expect_refused(shifted, "norm input biases");
}

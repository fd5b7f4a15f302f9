// quant.execution: packed against quant.execution: simulated on the same tiny model (ragged K:
// C 96, F 192) for W8A8, W4A8, W4A16-g128, W3A16, W2*A16 and W2A8: each decoder block, fed the
// simulated model's input, gives the simulated block's output within fp32 rounding (with quantized
// activations: up to the odd activation that rounding moves to the next grid point), and the
// perplexity (exp of the mean next-token NLL, computed here from the logits) agrees within 1e-3
// relative. The reference is the simulated model itself (fake_quant weights and activation hooks).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "experiments/runner/experiment_checks.h"
#include "experiments/runner/load_experiment.h"
#include "experiments/runner/run_experiment.h"
#include "framework/io/safetensors.h"
#include "framework/core/error.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/model_loader.h"
#include "framework/pipeline/packed_checkpoint.h"
#include "framework/pipeline/quantize_model.h"
#include "framework/store/results_store.h"

namespace abq {
namespace {

const std::string kFixture = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/tiny_packed.yaml";

struct Setting {
  const char* name;
  std::vector<std::string> set;
};

std::vector<Setting> settings() {
  return {{"W8A8", {"quant.weights.bits=8", "quant.weights.symmetric=true", "quant.activations.bits=8",
                    "quant.activations.symmetric=true"}},
          {"W4A8", {"quant.weights.bits=4", "quant.activations.bits=8"}},
          {"W4A16-g128", {"quant.weights.bits=4", "quant.weights.granularity=per_group", "quant.weights.group_size=128",
                          "quant.activations.bits=16"}},
          {"W3A16", {"quant.weights.bits=3", "quant.activations.bits=16"}},
          {"W2*A16", {"quant.weights.bits=2", "quant.weights.bit_balance=true", "quant.weights.granularity=per_group",
                      "quant.weights.group_size=64", "quant.activations.bits=16"}},
          {"W2A8", {"quant.weights.bits=2", "quant.weights.granularity=per_group", "quant.weights.group_size=64",
                    "quant.activations.bits=8"}}};
}

pipeline::ExperimentSpec spec_with(std::vector<std::string> set, const std::string& execution) {
  set.push_back("quant.execution=" + execution);
  return runner::load_experiment(kFixture, set).front();
}

double perplexity(const torch::Tensor& logits, const torch::Tensor& tokens) {
  const auto lp = torch::log_softmax(logits.to(torch::kFloat64), -1);  // [1, T, V]
  const auto next = tokens.slice(1, 1).unsqueeze(-1);
  const auto nll = -lp.slice(1, 0, -1).gather(-1, next).mean().item<double>();
  return std::exp(nll);
}

TEST(PackedExecution, MatchesTheSimulatedModelPerLayerAndInPerplexity) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  const auto tokens = torch::randint(0, 256, {1, 48}, torch::kInt64);
  for (const auto& setting : settings()) {
    const auto sim_spec = spec_with(setting.set, "simulated"), packed_spec = spec_with(setting.set, "packed");
    auto sim = pipeline::load_model(sim_spec), packed = pipeline::load_model(packed_spec);
    pipeline::quantize_model(*sim.model, sim_spec.quant, {});
    const auto report = pipeline::quantize_model(*packed.model, packed_spec.quant, {});
    ASSERT_EQ(report.packed.rows(), 14u) << setting.name;  // 2 layers x 7 linears
    const auto& block = packed.model->weights().layers[0];
    EXPECT_FALSE(block.down_proj.weight.defined()) << setting.name;  // the fp weight is gone
    ASSERT_TRUE(block.down_proj.packed) << setting.name;
    EXPECT_TRUE(sim.model->weights().layers[0].down_proj.packed) << setting.name;  // simulated keeps the codes too

    auto x = sim.model->embed(tokens);
    for (int64_t layer = 0; layer < sim.model->config().num_layers; ++layer) {
      const auto want = sim.model->block_forward(layer, x), got = packed.model->block_forward(layer, x);
      if (sim_spec.quant.activations.enabled()) {
        // Inside a block the next quantizer's input differs by fp rounding (integer GEMM vs BLAS
        // summation order), so now and then one activation lands on the neighbouring grid point:
        // the error stays a small fraction of the output's norm.
        const double rel = ((got - want).norm() / want.norm()).item<double>();
        EXPECT_LT(rel, 1e-3) << setting.name << " layer " << layer;
      } else {
        const double err = (got - want).abs().max().item<double>(), scale = want.abs().max().item<double>();
        EXPECT_LT(err, 1e-5 * scale) << setting.name << " layer " << layer;
      }
      x = want;
    }
    const double ppl_sim = perplexity(sim.model->forward(tokens), tokens);
    const double ppl_packed = perplexity(packed.model->forward(tokens), tokens);
    EXPECT_LT(std::fabs(ppl_packed / ppl_sim - 1), 1e-3) << setting.name << ": " << ppl_packed << " vs " << ppl_sim;
    EXPECT_TRUE(std::isfinite(ppl_sim));
  }
}

TEST(PackedExecution, ValidationNamesTheSiteKAndGroupSize) {
  try {
    spec_with({"quant.weights.granularity=per_group", "quant.weights.group_size=32"}, "packed");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string text = e.what();
    EXPECT_NE(text.find("--set quant.execution=packed: "), std::string::npos) << text;  // the key's position
    EXPECT_NE(text.find("quant.execution: packed: layers.0.self_attn.q_proj.weight (w4g32) cannot run packed: K 96, "
                        "group size 32: group size 32 is not one the kernels run"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("(and 11 more linears)"), std::string::npos) << text;  // K 96: q, k, v, o, gate, up
    EXPECT_NE(text.find("mlp.down_proj.weight (w4g32) cannot run packed: K 192"), std::string::npos) << text;
  }
  try {  // learned calibration keeps no codes (packed_calibrated_test.cpp runs gptq and awq_clip packed)
    spec_with({"quant.weight_quantizer.type=learned"}, "packed");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("without integer codes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(spec_with({"model.device=cuda"}, "packed"), ConfigError);
  runner::ShapeCache shapes;
  const auto notes = runner::packed_execution_notes(spec_with({}, "packed"), shapes);
  ASSERT_EQ(notes.size(), 7u);  // one line per linear, each shared by both layers
  EXPECT_EQ(notes[0], "packed: self_attn.q_proj: w4 as bits=4 levels=16 unsigned group=channel, K 96 padded to 128; "
                      "input a8t fused [2 linears]");
  EXPECT_TRUE(runner::packed_execution_notes(spec_with({}, "simulated"), shapes).empty());
}

// The perplexity of every run stored in `results`.
std::vector<double> stored_ppl(const std::string& results) {
  store::ResultsStore store(results);
  std::vector<double> out;
  for (const auto& run : store.read_all())
    for (const auto& m : run.metrics)
      if (m.metric == "ppl") out.push_back(m.value);
  return out;
}

// A packed run exports its codes at real size with the manifest; `abq eval` on the folder (the
// options cmd_eval.cpp forces: nothing quantized again) loads them packed and gives the run's
// perplexity back: the same codes through the same backend.
TEST(PackedCheckpoint, ExportThenEvalReproducesThePackedPerplexity) {
  namespace fs = std::filesystem;
  const std::string dir = ::testing::TempDir() + "/abq_packed_export_" + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string folder = dir + "/w4a8";
  runner::RunOptions run;
  run.results_path = dir + "/run.h5";
  run.overrides = {"export=" + folder};
  ASSERT_EQ(runner::run_experiment(kFixture, run).completed, 1);
  for (const char* f : {"model.safetensors", "config.json", "abq_quant.json", pipeline::kPackedManifest})
    EXPECT_TRUE(fs::is_regular_file(folder + "/" + f)) << f;
  const auto file = io::SafetensorsCheckpoint::open(folder);
  EXPECT_FALSE(file.has("model.layers.0.self_attn.q_proj.weight"));  // no fp copy of a packed linear
  // W4 per channel on [96, 96]: 96 x 128 (padded) codes at 4 bits, one scale and zero per row.
  EXPECT_EQ(file.view("model.layers.0.self_attn.q_proj.qweight").size_bytes, 96u * 128 * 4 / 8);
  EXPECT_EQ(file.view("model.layers.0.self_attn.q_proj.scales").shape, (std::vector<int64_t>{96, 1}));
  EXPECT_EQ(file.view("model.layers.1.mlp.down_proj.qzeros").shape, (std::vector<int64_t>{96, 1}));
  const auto run_ppl = stored_ppl(run.results_path);
  ASSERT_EQ(run_ppl.size(), 1u);

  runner::RunOptions eval;
  eval.results_path = dir + "/eval.h5";
  eval.overrides = {"model.source=hf", "model.path=" + folder};
  eval.forced = {"quant.weights.bits=16", "quant.activations.bits=16", "quant.kv.bits=16", "quant.corrections=[]",
                 "quant.allocation.overrides=[]", "quant.weight_quantizer=rtn"};
  eval.merge_duplicate_runs = true;
  ASSERT_EQ(runner::run_experiment(kFixture, eval).completed, 1);
  const auto eval_ppl = stored_ppl(eval.results_path);
  ASSERT_EQ(eval_ppl.size(), 1u);
  EXPECT_EQ(eval_ppl[0], run_ppl[0]);

  // The loaded model holds the linears packed, with the input quantizer in the kernel call.
  auto spec = runner::load_experiment(kFixture, {"model.source=hf", "model.path=" + folder}).front();
  auto loaded = pipeline::load_model(spec);
  const auto& q = loaded.model->weights().layers[1].q_proj;
  EXPECT_FALSE(q.weight.defined());
  ASSERT_TRUE(q.packed);
  EXPECT_NE(q.packed->describe().find("fused a8t"), std::string::npos) << q.packed->describe();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace abq

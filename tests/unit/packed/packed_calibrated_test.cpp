// Block-calibrated weights run packed: GPTQ (its codes from the sequential error update) and
// awq_clip (its codes on the per-group clipped grid), per channel and per group, quantized once
// with quant.execution: simulated and once with packed on the same tiny model and calibration
// windows. The reference is the simulated model itself (each quantizer's fake weights baked into
// fp32 linears): per decoder block, fed the simulated input, the packed block's output lies within
// 1e-5 of the largest output value, and the perplexity (exp of the mean next-token NLL from the
// logits) within 1e-3 relative. Learned quantizers, which keep no codes, are refused at validation
// naming the first site; a calibration checkpoint (fake weights only) is refused under packed.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "experiments/runner/load_experiment.h"
#include "framework/core/error.h"
#include "framework/model/llama_model.h"
#include "framework/pipeline/model_loader.h"
#include "framework/pipeline/quantize_model.h"

namespace abq {
namespace {

const std::string kFixture = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/tiny_packed.yaml";
const std::string kCalibration = std::string(ABQ_SOURCE_DIR) + "/experiments/data/sotu/calibration.txt";

struct Setting {
  const char* name;
  std::vector<std::string> set;
};

// C 128 / F 256 for the per-group settings: GPTQ and awq_clip need whole groups (64 and 128 divide
// every input size there); per channel keeps the fixture's ragged C 96 / F 192 (padded K).
std::vector<Setting> settings() {
  const std::vector<std::string> wide = {"model.random.hidden_size=128", "model.random.intermediate_size=256"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  return {{"gptq W4 per channel", {"quant.weight_quantizer.type=gptq"}},
          {"gptq W3 sym per channel act_order",
           {"quant.weight_quantizer.type=gptq", "quant.weight_quantizer.act_order=true", "quant.weights.bits=3",
            "quant.weights.symmetric=true"}},
          {"gptq W4 g64", with({"quant.weight_quantizer.type=gptq", "quant.weights.granularity=per_group",
                                "quant.weights.group_size=64"}, wide)},
          {"awq_clip W4 per channel", {"quant.weight_quantizer.type=awq_clip"}},
          {"awq_clip W4 g128", with({"quant.weight_quantizer.type=awq_clip", "quant.weights.granularity=per_group",
                                     "quant.weights.group_size=128"}, wide)}};
}

pipeline::ExperimentSpec spec_with(std::vector<std::string> set, const std::string& execution) {
  set.push_back("quant.execution=" + execution);
  set.push_back("quant.activations.bits=16");
  set.push_back("calibration.data=" + kCalibration);
  return runner::load_experiment(kFixture, set).front();
}

std::vector<torch::Tensor> calibration_windows() {
  torch::manual_seed(1);
  std::vector<torch::Tensor> windows;
  for (int i = 0; i < 4; ++i) windows.push_back(torch::randint(0, 256, {1, 32}, torch::kInt64));
  return windows;
}

double perplexity(const torch::Tensor& logits, const torch::Tensor& tokens) {
  const auto lp = torch::log_softmax(logits.to(torch::kFloat64), -1);  // [1, T, V]
  const auto next = tokens.slice(1, 1).unsqueeze(-1);
  return std::exp(-lp.slice(1, 0, -1).gather(-1, next).mean().item<double>());
}

TEST(PackedCalibrated, GptqAndAwqClipMatchTheSimulatedModelPerBlockAndInPerplexity) {
  torch::NoGradGuard no_grad;
  const auto windows = calibration_windows();
  const auto tokens = torch::randint(0, 256, {1, 48}, torch::kInt64);
  for (const auto& setting : settings()) {
    const auto sim_spec = spec_with(setting.set, "simulated"), packed_spec = spec_with(setting.set, "packed");
    auto sim = pipeline::load_model(sim_spec), packed = pipeline::load_model(packed_spec);
    pipeline::quantize_model(*sim.model, sim_spec.quant, windows);
    const auto report = pipeline::quantize_model(*packed.model, packed_spec.quant, windows);
    ASSERT_EQ(report.packed.rows(), 14u) << setting.name;  // 2 layers x 7 linears
    const auto& block = packed.model->weights().layers[1];
    EXPECT_FALSE(block.down_proj.weight.defined()) << setting.name;
    ASSERT_TRUE(block.down_proj.packed) << setting.name;
    // The packed codes are the quantizer's own: they dequantize to the simulated (baked) weight.
    const auto& sim_down = sim.model->weights().layers[1].down_proj;
    ASSERT_TRUE(sim_down.packed) << setting.name;  // simulated runs keep the codes too
    EXPECT_TRUE(torch::equal(sim_down.packed->dequantized(), sim_down.weight)) << setting.name;

    auto x = sim.model->embed(tokens);
    for (int64_t layer = 0; layer < sim.model->config().num_layers; ++layer) {
      const auto want = sim.model->block_forward(layer, x), got = packed.model->block_forward(layer, x);
      const double err = (got - want).abs().max().item<double>(), scale = want.abs().max().item<double>();
      EXPECT_LT(err, 1e-5 * scale) << setting.name << " layer " << layer;
      x = want;
    }
    const double ppl_sim = perplexity(sim.model->forward(tokens), tokens);
    const double ppl_packed = perplexity(packed.model->forward(tokens), tokens);
    EXPECT_TRUE(std::isfinite(ppl_sim)) << setting.name;
    EXPECT_LT(std::fabs(ppl_packed / ppl_sim - 1), 1e-3) << setting.name << ": " << ppl_packed << " vs " << ppl_sim;
  }
}

TEST(PackedCalibrated, LearnedQuantizerIsRefusedNamingTheSite) {
  try {
    spec_with({"quant.weight_quantizer.type=learned"}, "packed");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    const std::string text = e.what();
    EXPECT_NE(text.find("quant.execution: packed: weight quantizer 'learned' trains whole blocks and bakes "
                        "fake-quantized weights without integer codes, so layers.0.self_attn.q_proj.weight (w4) and "
                        "13 more linears cannot run packed"),
              std::string::npos)
        << text;
  }
  EXPECT_NO_THROW(spec_with({"quant.weight_quantizer.type=gptq"}, "packed"));
  EXPECT_NO_THROW(spec_with({"quant.weight_quantizer.type=awq_clip"}, "packed"));
}

// A checkpoint holds the baked (fake) weights of its blocks, not their codes: a packed run that
// would resume one stops with an error naming the directory, before calibrating anything.
TEST(PackedCalibrated, ResumingACalibrationCheckpointIsRefused) {
  namespace fs = std::filesystem;
  torch::NoGradGuard no_grad;
  const std::string dir = ::testing::TempDir() + "/abq_packed_resume_" + std::to_string(getpid());
  fs::remove_all(dir);
  const auto windows = calibration_windows();
  const auto sim_spec = spec_with({"quant.weight_quantizer.type=gptq"}, "simulated");
  auto sim = pipeline::load_model(sim_spec);
  pipeline::quantize_model(*sim.model, sim_spec.quant, windows, dir);
  const auto packed_spec = spec_with({"quant.weight_quantizer.type=gptq"}, "packed");
  auto packed = pipeline::load_model(packed_spec);
  try {
    pipeline::quantize_model(*packed.model, packed_spec.quant, windows, dir);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    const std::string text = e.what();
    EXPECT_NE(text.find("calibration checkpoint " + dir + " holds blocks 0..1 as fake-quantized weights without "
                        "their integer codes"),
              std::string::npos)
        << text;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace abq

// ClosedFormCalibrator through calibrate_blocks on a tiny random LLaMA (C 32, F 64, 2-3 layers,
// 4 windows of 16 tokens).
// Expected values are computed independently in each test: RTN applied directly to the fp weights
// (quant::fake_quant), Hessians 2/N·Σxᵀx of inputs captured with activation hooks on the finished
// model, the fp / quantized chains re-run block by block, and an uninterrupted run for the resume.
#include "framework/calib/calibrate_blocks.h"
#include "framework/calib/closed_form_calibrator.h"

#include <unistd.h>
#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "tests/support/tiny_llama_config.h"

#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/methods/quantizers/gptq.h"
#include "framework/methods/quantizers/rtn.h"
#include "framework/model/rms_norm.h"
#include "framework/quant/fake_quant.h"

namespace abq::calib {
namespace {

using model::LinearKind;
using model::LlamaModel;

std::vector<torch::Tensor> calibration_windows() {
  torch::manual_seed(21);
  std::vector<torch::Tensor> windows;
  for (int i = 0; i < 4; ++i) windows.push_back(torch::randint(0, 64, {1, 16}, torch::kInt64));
  return windows;
}

quant::QuantSpec w3() {
  quant::QuantSpec s;
  s.bits = 3;
  s.granularity = quant::Granularity::per_channel;
  return s;
}

SpecForSite all_w3() {
  return [](const std::string&) { return w3(); };
}

std::string fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("abq_calib_test_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  return dir.string();
}

// A probe around a real quantizer: remembers the Hessian each site was given.
class RecordingQuantizer final : public methods::WeightQuantizer {
 public:
  explicit RecordingQuantizer(methods::WeightQuantizer& inner) : inner_(inner) {}
  std::string name() const override { return inner_.name(); }
  methods::WeightQuantResult quantize(const torch::Tensor& w, const quant::QuantSpec& spec,
                                      const methods::WeightContext& ctx) override {
    hessians[ctx.site] = ctx.hessian.clone();
    return inner_.quantize(w, spec, ctx);
  }
  std::map<std::string, torch::Tensor> hessians;

 private:
  methods::WeightQuantizer& inner_;
};

// Fault injection around a real quantizer: NaNs in one site's result.
class NanAtSite final : public methods::WeightQuantizer {
 public:
  NanAtSite(methods::WeightQuantizer& inner, std::string site) : inner_(inner), site_(std::move(site)) {}
  std::string name() const override { return "nan_at_site"; }
  methods::WeightQuantResult quantize(const torch::Tensor& w, const quant::QuantSpec& spec,
                                      const methods::WeightContext& ctx) override {
    auto r = inner_.quantize(w, spec, ctx);
    if (ctx.site == site_) r.fake_weight = r.fake_weight.clone().fill_(NAN);
    return r;
  }

 private:
  methods::WeightQuantizer& inner_;
  std::string site_;
};

// The loop with `quantizer` as a closed-form calibrator (true-sequential stages).
CalibrationReport closed_form(LlamaModel& m, const SpecForSite& specs, methods::WeightQuantizer& quantizer,
                              const std::vector<torch::Tensor>& windows, const CalibOptions& options = {}) {
  ClosedFormCalibrator calibrator(quantizer);
  return calibrate_blocks(m, specs, calibrator, windows, options);
}

// X after every block, block by block, with the model's current weights and no hooks.
torch::Tensor chain(const LlamaModel& m, const torch::Tensor& tokens) {
  auto x = m.embed(tokens);
  for (int64_t l = 0; l < m.config().num_layers; ++l) x = m.block_forward(l, x);
  return x;
}

void expect_same_weights(const LlamaModel& a, const LlamaModel& b) {
  for (int64_t l = 0; l < a.config().num_layers; ++l)
    for (LinearKind kind : model::all_linear_kinds())
      EXPECT_TRUE(torch::equal(a.weights().layers[size_t(l)].linear(kind).weight,
                               b.weights().layers[size_t(l)].linear(kind).weight))
          << model::site_name(l, model::weight_site(kind));
}

class ClosedFormCalibration : public ::testing::Test {
 protected:
  void SetUp() override { set_log_level(LogLevel::warn); }
};

TEST_F(ClosedFormCalibration, RtnThroughTheEngineEqualsRtnOnTheFpWeights) {
  auto fp = model::make_random_model(test::tiny_llama_config(2), 1);
  auto m = model::make_random_model(test::tiny_llama_config(2), 1);
  methods::RtnQuantizer rtn;
  const auto report = closed_form(m, all_w3(), rtn, calibration_windows());
  EXPECT_TRUE(report.completed);
  EXPECT_TRUE(report.fallbacks.empty());
  ASSERT_EQ(report.sites.size(), 14u);
  ASSERT_EQ(report.blocks.size(), 2u);
  for (int64_t l = 0; l < 2; ++l)
    for (LinearKind kind : model::all_linear_kinds()) {
      const auto& w = fp.weights().layers[size_t(l)].linear(kind).weight;
      EXPECT_TRUE(torch::equal(m.weights().layers[size_t(l)].linear(kind).weight, quant::fake_quant(w, w3()).fake));
    }
  EXPECT_EQ(report.sites[0].site, "layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(report.sites[0].quantizer, "rtn");
  EXPECT_EQ(report.sites[0].spec.bits, 3);
  EXPECT_GT(report.sites[0].layer_loss, 0);
}

TEST_F(ClosedFormCalibration, HessiansAreThoseOfTheQuantizedChainInputs) {
  auto m = model::make_random_model(test::tiny_llama_config(2), 2);
  methods::RtnQuantizer rtn;
  RecordingQuantizer recorder(rtn);
  const auto windows = calibration_windows();
  closed_form(m, all_w3(), recorder, windows);
  ASSERT_EQ(recorder.hessians.size(), 14u);
  // With true-sequential stages every linear's input is computed by stages that are final by then,
  // so the finished model reproduces it: capture and form 2/N·Σxᵀx independently.
  for (int64_t l = 0; l < 2; ++l)
    for (LinearKind kind : model::all_linear_kinds()) {
      torch::Tensor sum;
      m.set_activation_hook(l, model::input_site(kind), [&sum](const torch::Tensor& x) {
        auto f = x.reshape({-1, x.size(-1)}).to(torch::kFloat64);
        sum = sum.defined() ? sum + f.t().matmul(f) : f.t().matmul(f);
        return x;
      });
      for (const auto& w : windows) chain(m, w);
      m.clear_activation_hooks();
      const auto site = model::site_name(l, model::weight_site(kind));
      const auto expected = sum * (2.0 / double(windows.size()));
      EXPECT_TRUE(torch::allclose(recorder.hessians.at(site).to(torch::kFloat64), expected, 1e-4, 1e-4)) << site;
    }
}

TEST_F(ClosedFormCalibration, BlockStatsMatchIndependentChains) {
  auto fp = model::make_random_model(test::tiny_llama_config(2), 3);
  auto m = model::make_random_model(test::tiny_llama_config(2), 3);
  methods::GptqQuantizer gptq;
  const auto windows = calibration_windows();
  const auto report = closed_form(m, all_w3(), gptq, windows);
  ASSERT_EQ(report.blocks.size(), 2u);
  double sum = 0, count = 0, local = 0;
  for (const auto& w : windows) {
    auto xq = chain(m, w), xfp = chain(fp, w);
    sum += (xq - xfp).to(torch::kFloat64).square().sum().item<double>();
    count += double(xq.numel());
    // local error of the last block: quantized vs fp block 1 on the quantized block-0 output
    auto x0 = m.block_forward(0, m.embed(w));
    local += (m.block_forward(1, x0) - fp.block_forward(1, x0)).to(torch::kFloat64).square().sum().item<double>();
  }
  EXPECT_NEAR(report.blocks[1].output_mse, sum / count, 1e-6 * sum / count);
  EXPECT_NEAR(report.blocks[1].local_mse, local / count, 1e-6 * local / count);
  EXPECT_GT(report.blocks[1].output_mse, 0);
}

TEST_F(ClosedFormCalibration, ActivationHooksApplyOnTheQuantizedStreamOnly) {
  auto fp = model::make_random_model(test::tiny_llama_config(2), 10);
  auto m = model::make_random_model(test::tiny_llama_config(2), 10);
  quant::QuantSpec a4;
  a4.bits = 4;
  a4.granularity = quant::Granularity::per_token;
  for (int64_t l = 0; l < 2; ++l)
    for (LinearKind kind : model::all_linear_kinds())
      m.set_activation_hook(l, model::input_site(kind), [a4](const torch::Tensor& x) { return quant::fake_quant(x, a4).fake; });
  methods::RtnQuantizer rtn;
  RecordingQuantizer recorder(rtn);
  const auto windows = calibration_windows();
  const auto report = closed_form(m, all_w3(), recorder, windows);
  // The hooks are still installed: the quantized chain runs through them, the fp model has none.
  double sum = 0, count = 0;
  torch::Tensor xtx;
  for (const auto& w : windows) {
    auto xq = chain(m, w), xfp = chain(fp, w);
    sum += (xq - xfp).to(torch::kFloat64).square().sum().item<double>();
    count += double(xq.numel());
    // q_proj of block 0 sees the activation-quantized normed embeddings
    auto x = quant::fake_quant(model::rms_norm(m.embed(w), m.weights().layers[0].input_norm, 1e-5), a4).fake;
    auto f = x.reshape({-1, 32}).to(torch::kFloat64);
    xtx = xtx.defined() ? xtx + f.t().matmul(f) : f.t().matmul(f);
  }
  EXPECT_NEAR(report.blocks[1].output_mse, sum / count, 1e-6 * sum / count);
  const auto& h = recorder.hessians.at("layers.0.self_attn.q_proj.weight");
  EXPECT_TRUE(torch::allclose(h.to(torch::kFloat64), xtx * (2.0 / 4.0), 1e-4, 1e-4));
}

TEST_F(ClosedFormCalibration, GptqLowersTheLayerLossBelowRtn) {
  auto a = model::make_random_model(test::tiny_llama_config(2), 4);
  auto b = model::make_random_model(test::tiny_llama_config(2), 4);
  methods::RtnQuantizer rtn;
  methods::GptqQuantizer gptq;
  const auto windows = calibration_windows();
  const auto r_rtn = closed_form(a, all_w3(), rtn, windows);
  const auto r_gptq = closed_form(b, all_w3(), gptq, windows);
  // q/k/v of block 0 see identical inputs (the embeddings) in both runs.
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r_gptq.sites[i].site, r_rtn.sites[i].site);
    EXPECT_EQ(r_gptq.sites[i].quantizer, "gptq");
    EXPECT_LT(r_gptq.sites[i].layer_loss, r_rtn.sites[i].layer_loss) << r_gptq.sites[i].site;
  }
}

TEST_F(ClosedFormCalibration, KilledRunResumesBitIdentical) {
  const auto windows = calibration_windows();
  methods::GptqQuantizer gptq;

  auto full = model::make_random_model(test::tiny_llama_config(3), 5);
  CalibOptions full_options;
  full_options.checkpoint_dir = fresh_dir("full");
  const auto full_report = closed_form(full, all_w3(), gptq, windows, full_options);

  // "Kill" after block 0 is committed.
  const auto dir = fresh_dir("killed");
  auto killed = model::make_random_model(test::tiny_llama_config(3), 5);
  const auto fp = model::make_random_model(test::tiny_llama_config(3), 5);
  CalibOptions options;
  options.checkpoint_dir = dir;
  options.after_block = [](int64_t block) { return block < 0; };
  const auto partial = closed_form(killed, all_w3(), gptq, windows, options);
  EXPECT_FALSE(partial.completed);
  ASSERT_EQ(partial.blocks.size(), 1u);
  EXPECT_TRUE(torch::equal(killed.weights().layers[1].q_proj.weight, fp.weights().layers[1].q_proj.weight));
  EXPECT_TRUE(std::filesystem::exists(dir + "/state.json"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/block_0.bin"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/streams_0.bin"));

  // A new process: a fresh fp model, the same directory.
  auto resumed = model::make_random_model(test::tiny_llama_config(3), 5);
  options.after_block = nullptr;
  const auto report = closed_form(resumed, all_w3(), gptq, windows, options);
  EXPECT_TRUE(report.completed);
  EXPECT_EQ(report.resumed_at_block, 1);
  expect_same_weights(resumed, full);
  ASSERT_EQ(report.sites.size(), full_report.sites.size());
  for (size_t i = 0; i < report.sites.size(); ++i) {
    EXPECT_EQ(report.sites[i].site, full_report.sites[i].site);
    EXPECT_EQ(report.sites[i].mse, full_report.sites[i].mse);
    EXPECT_EQ(report.sites[i].layer_loss, full_report.sites[i].layer_loss);
  }
  ASSERT_EQ(report.blocks.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(report.blocks[i].output_mse, full_report.blocks[i].output_mse);
    EXPECT_EQ(report.blocks[i].local_mse, full_report.blocks[i].local_mse);
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/streams_0.bin"));  // superseded streams are removed

  // Running again on a finished directory only reloads the baked weights.
  auto again = model::make_random_model(test::tiny_llama_config(3), 5);
  const auto done = closed_form(again, all_w3(), gptq, windows, options);
  EXPECT_TRUE(done.completed);
  EXPECT_EQ(done.resumed_at_block, 3);
  expect_same_weights(again, full);
}

TEST_F(ClosedFormCalibration, CheckpointOfAnotherRunIsRejected) {
  const auto windows = calibration_windows();
  methods::RtnQuantizer rtn;
  CalibOptions options;
  options.checkpoint_dir = fresh_dir("other_run");
  auto a = model::make_random_model(test::tiny_llama_config(2), 6);
  closed_form(a, all_w3(), rtn, windows, options);
  auto b = model::make_random_model(test::tiny_llama_config(2), 6);
  SpecForSite w4 = [](const std::string&) {
    auto s = w3();
    s.bits = 4;
    return s;
  };
  try {
    closed_form(b, w4, rtn, windows, options);
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("belongs to another run"), std::string::npos) << e.what();
    EXPECT_EQ(e.context().at(0), "while resuming calibration from " + options.checkpoint_dir);
  }
}

// A model file replaced at the same path by another model of the same shape: its checkpoint must
// not be resumed with the old model's blocks, whether the weights enter the fingerprint as the
// caller's digest or as the engine's hash of the tensors.
TEST_F(ClosedFormCalibration, CheckpointOfOtherWeightsIsRefused) {
  const auto windows = calibration_windows();
  methods::GptqQuantizer gptq;
  for (const std::string digest_a : {"", "sha256-of-model-a"}) {
    CalibOptions options;
    options.checkpoint_dir = fresh_dir("other_weights" + digest_a);
    options.weights_digest = digest_a;
    options.after_block = [](int64_t block) { return block < 0; };
    auto a = model::make_random_model(test::tiny_llama_config(3), 5);
    EXPECT_FALSE(closed_form(a, all_w3(), gptq, windows, options).completed);

    auto b = model::make_random_model(test::tiny_llama_config(3), 9);  // same dims, other weights
    options.weights_digest = digest_a.empty() ? "" : "sha256-of-model-b";
    options.after_block = nullptr;
    try {
      const auto report = closed_form(b, all_w3(), gptq, windows, options);
      FAIL() << "resumed at block " << report.resumed_at_block << " with another model's blocks";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("belongs to another run"), std::string::npos) << e.what();
    }
    // The same weights still resume.
    auto a_again = model::make_random_model(test::tiny_llama_config(3), 5);
    options.weights_digest = digest_a;
    EXPECT_EQ(closed_form(a_again, all_w3(), gptq, windows, options).resumed_at_block, 1);
  }
}

TEST_F(ClosedFormCalibration, NonFiniteBlockIsRedoneWithRtnAndReported) {
  auto fp = model::make_random_model(test::tiny_llama_config(2), 7);
  auto m = model::make_random_model(test::tiny_llama_config(2), 7);
  methods::GptqQuantizer gptq;
  NanAtSite faulty(gptq, "layers.1.self_attn.o_proj.weight");
  set_log_level(LogLevel::error);  // the fallback warning is expected here
  const auto report = closed_form(m, all_w3(), faulty, calibration_windows());
  ASSERT_EQ(report.fallbacks.size(), 1u);
  EXPECT_EQ(report.fallbacks[0].block, 1);
  EXPECT_EQ(report.fallbacks[0].from, "nan_at_site");
  EXPECT_EQ(report.fallbacks[0].to, "rtn");
  EXPECT_EQ(report.fallbacks[0].reason, "layers.1.self_attn.o_proj.weight: non-finite values in the quantized weight");
  // Block 1 restarted from its fp weights: every linear is RTN of the fp weight, and finite.
  for (LinearKind kind : model::all_linear_kinds()) {
    const auto& w = fp.weights().layers[1].linear(kind).weight;
    EXPECT_TRUE(torch::equal(m.weights().layers[1].linear(kind).weight, quant::fake_quant(w, w3()).fake));
  }
  // Block 0 kept the GPTQ result (not RTN) and the report says which quantizer made each site.
  EXPECT_FALSE(torch::equal(m.weights().layers[0].down_proj.weight,
                            quant::fake_quant(fp.weights().layers[0].down_proj.weight, w3()).fake));
  EXPECT_EQ(report.sites[0].quantizer, "nan_at_site");
  EXPECT_EQ(report.sites[7].quantizer, "rtn");
  ASSERT_EQ(report.sites.size(), 14u);
}

TEST_F(ClosedFormCalibration, DisabledSitesStayFloatingPoint) {
  auto fp = model::make_random_model(test::tiny_llama_config(2), 8);
  auto m = model::make_random_model(test::tiny_llama_config(2), 8);
  methods::GptqQuantizer gptq;
  SpecForSite only_mlp = [](const std::string& site) {
    return site.find(".mlp.") != std::string::npos ? w3() : quant::QuantSpec{};
  };
  const auto report = closed_form(m, only_mlp, gptq, calibration_windows());
  EXPECT_EQ(report.sites.size(), 6u);
  EXPECT_TRUE(torch::equal(m.weights().layers[1].q_proj.weight, fp.weights().layers[1].q_proj.weight));
  EXPECT_FALSE(torch::equal(m.weights().layers[1].up_proj.weight, fp.weights().layers[1].up_proj.weight));
}

TEST_F(ClosedFormCalibration, BadCalibrationWindowIsAnError) {
  auto m = model::make_random_model(test::tiny_llama_config(2), 9);
  methods::RtnQuantizer rtn;
  try {
    closed_form(m, all_w3(), rtn, {torch::zeros({16}, torch::kInt64)});
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "calibration window 0: expected int64 token ids [B, T], got Long [16]");
  }
  EXPECT_THROW(closed_form(m, all_w3(), rtn, {}), Error);
}

}  // namespace
}  // namespace abq::calib

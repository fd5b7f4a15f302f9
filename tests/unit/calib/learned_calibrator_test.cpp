// LearnedCalibrator through calibrate_blocks on a tiny random LLaMA: the engine around the trainer.
// References: an RTN baseline computed directly with quant::fake_quant; the fp model itself for
// output preservation of the transforms and shifts; an uninterrupted run for the resume (with and
// without shifts).
#include "framework/calib/calibrate_blocks.h"
#include "framework/calib/learned_calibrator.h"

#include <unistd.h>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/tiny_llama_config.h"

#include "framework/core/log.h"
#include "framework/methods/learned/block_transform.h"
#include "framework/quant/fake_quant.h"

namespace abq::calib {
namespace {

std::vector<torch::Tensor> windows() {
  torch::manual_seed(5);
  std::vector<torch::Tensor> out;
  for (int i = 0; i < 3; ++i) out.push_back(torch::randint(0, 64, {1, 16}, torch::kInt64));
  return out;
}

SpecForSite w3a8() {
  return [](const std::string& site) {
    quant::QuantSpec s;
    const bool weight = site.size() > 7 && site.compare(site.size() - 7, 7, ".weight") == 0;
    s.bits = weight ? 3 : 8;
    s.granularity = weight ? quant::Granularity::per_channel : quant::Granularity::per_token;
    return s;
  };
}

methods::LearnedOptions abq_options(int64_t epochs) {
  methods::LearnedOptions o;
  o.epochs = epochs;
  o.let = true;
  o.pairs.fc2 = true;
  o.compensation = true;
  o.compensation_first = 1;
  o.compensation_last = 0;
  o.loss.aug_mse = o.loss.dlc = o.loss.attention_kl = true;
  return o;
}

std::string fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("abq_learned_test_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  return dir.string();
}

// The loop with a learned calibrator of options `o`.
CalibrationReport learned_blocks(model::LlamaModel& m, const SpecForSite& specs, const methods::LearnedOptions& o,
                                 const std::vector<torch::Tensor>& calib, const CalibOptions& options = {}) {
  LearnedCalibrator calibrator(o);
  return calibrate_blocks(m, specs, calibrator, calib, options);
}

// AffineQuant with its shifts (configs/methods/affinequant.yaml, ln matrices as in its weight-only scripts).
methods::LearnedOptions affine_shift_options(int64_t epochs) {
  methods::LearnedOptions o;
  o.epochs = epochs;
  o.let = true;
  o.shifts = true;
  o.affine.ln_matrix = o.affine.out_matrix = true;
  o.affine.stability_factor = 0.01;
  o.loss.aug_mse = true;
  return o;
}

// Every tensor of blocks 0..n-1 equal, bit for bit, including the ones calibration adds.
void expect_same_blocks(const model::LlamaModel& got, const model::LlamaModel& want, size_t n) {
  auto same = [](const torch::Tensor& a, const torch::Tensor& b) {
    return a.defined() == b.defined() && (!a.defined() || torch::equal(a, b));
  };
  for (size_t i = 0; i < n; ++i) {
    const auto& g = got.weights().layers[i];
    const auto& w = want.weights().layers[i];
    for (auto kind : model::all_linear_kinds()) {
      EXPECT_TRUE(same(g.linear(kind).weight, w.linear(kind).weight)) << "block " << i << " " << model::linear_name(kind);
      EXPECT_TRUE(same(g.linear(kind).bias, w.linear(kind).bias)) << "block " << i << " " << model::linear_name(kind) << " bias";
    }
    EXPECT_TRUE(same(g.input_norm, w.input_norm) && same(g.post_attention_norm, w.post_attention_norm)) << "block " << i;
    EXPECT_TRUE(same(g.attn_input_bias, w.attn_input_bias) && same(g.mlp_input_bias, w.mlp_input_bias)) << "block " << i;
    EXPECT_TRUE(same(g.attn_input_transform, w.attn_input_transform) && same(g.mlp_input_transform, w.mlp_input_transform))
        << "block " << i;
  }
}

double logits_mse(const model::LlamaModel& a, const model::LlamaModel& b, const torch::Tensor& tokens) {
  torch::NoGradGuard g;
  return (a.forward(tokens) - b.forward(tokens)).square().mean().item<double>();
}

TEST(LearnedCalibration, TrainingBeatsRoundToNearest) {
  set_log_level(LogLevel::warn);
  auto fp = model::make_random_model(test::tiny_llama_config(2), 3);
  auto learned = model::make_random_model(test::tiny_llama_config(2), 3);
  const auto calib = windows();
  auto report = learned_blocks(learned, w3a8(), abq_options(6), calib);
  EXPECT_TRUE(report.completed);
  ASSERT_EQ(report.blocks.size(), 2u);
  for (const auto& b : report.blocks) EXPECT_LT(b.final_loss, b.first_loss) << "block " << b.block;
  // Reference: round-to-nearest W3 on the fp weights (quant::fake_quant), no training. Compared on
  // the weights alone (no activation quantization on either model): training must land closer.
  auto rtn = model::make_random_model(test::tiny_llama_config(2), 3);
  torch::NoGradGuard g;
  quant::QuantSpec s;
  s.bits = 3;
  for (auto& block : rtn.weights().layers)
    for (auto kind : model::all_linear_kinds())
      block.linear(kind).weight = quant::fake_quant(block.linear(kind).weight, s).fake;
  const auto probe = torch::randint(0, 64, {1, 16}, torch::kInt64);
  EXPECT_LT(logits_mse(learned, fp, probe), logits_mse(rtn, fp, probe));
}

// Mixed precision on the CPU (bf16 autocast; fp16 on CUDA): the forward really runs in bf16 (the
// first-step losses differ from fp32's) and follows fp32's training (bf16 keeps 8 mantissa bits: a few
// 1e-3 relative per op: 5 % on the first loss, 10 % after training); the model it bakes stays fp32.
TEST(LearnedCalibration, MixedPrecisionTrainsCloseToFp32) {
  set_log_level(LogLevel::warn);
  const auto calib = windows();
  auto fp32 = model::make_random_model(test::tiny_llama_config(2), 3);
  auto mixed = model::make_random_model(test::tiny_llama_config(2), 3);
  auto options = abq_options(4);
  const auto full = learned_blocks(fp32, w3a8(), options, calib);
  options.amp = true;
  const auto amp = learned_blocks(mixed, w3a8(), options, calib);
  ASSERT_TRUE(amp.completed);
  ASSERT_EQ(amp.blocks.size(), full.blocks.size());
  for (size_t i = 0; i < amp.blocks.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(amp.blocks[i].restarts, 0);
    EXPECT_NE(amp.blocks[i].first_loss, full.blocks[i].first_loss);
    EXPECT_NEAR(amp.blocks[i].first_loss, full.blocks[i].first_loss, 0.05 * full.blocks[i].first_loss);
    EXPECT_NEAR(amp.blocks[i].final_loss, full.blocks[i].final_loss, 0.10 * full.blocks[i].final_loss);
  }
  for (const auto& block : mixed.weights().layers)  // parameters and baked weights stay fp32
    EXPECT_EQ(block.q_proj.weight.scalar_type(), torch::kFloat32);
}

TEST(LearnedCalibration, TransformsAloneKeepTheFpFunction) {
  // Every transformation except the q/k pair and the compensation is exact (spec §7.1); with qk off and weights /
  // activations unquantized the baked model must compute the fp function.
  set_log_level(LogLevel::warn);
  auto fp = model::make_random_model(test::tiny_llama_config(2), 4);
  auto m = model::make_random_model(test::tiny_llama_config(2), 4);
  auto o = abq_options(2);
  o.pairs.qkt = false;
  o.compensation = false;  // a trained a·b changes the function by design
  o.lwc = false;
  o.affine.out_matrix = true;
  o.affine.ln_matrix = true;
  SpecForSite none = [](const std::string&) { return quant::QuantSpec{}; };  // bits 16
  learned_blocks(m, none, o, windows());
  const auto probe = torch::randint(0, 64, {1, 16}, torch::kInt64);
  torch::NoGradGuard g;
  const auto want = fp.forward(probe);
  EXPECT_LE((m.forward(probe) - want).abs().max().item<double>(), 1e-4 * want.abs().max().item<double>());
  EXPECT_TRUE(m.weights().layers[0].attn_input_transform.defined());
}

TEST(LearnedCalibration, ShiftsAreBakedIntoTheModelAndKeepTheFpFunction) {
  // The shifts' equivalence is exact (spec §19.3): with weights and activations unquantized the
  // calibrated model computes the fp function, through the norm input biases and linear biases
  // the shifts leave in every block.
  set_log_level(LogLevel::warn);
  auto fp = model::make_random_model(test::tiny_llama_config(2), 4);
  auto m = model::make_random_model(test::tiny_llama_config(2), 4);
  auto o = affine_shift_options(2);
  o.pairs.qkt = false;
  o.lwc = false;
  SpecForSite none = [](const std::string&) { return quant::QuantSpec{}; };  // bits 16
  learned_blocks(m, none, o, windows());
  const auto& b = m.weights().layers[1];
  ASSERT_TRUE(b.attn_input_bias.defined() && b.mlp_input_bias.defined())
      << "the trained shifts' norm input biases must reach the model";
  EXPECT_GT(b.attn_input_bias.abs().max().item<double>(), 0.0) << "Adam moves the shifts off zero";
  EXPECT_TRUE(b.o_proj.bias.defined() && b.gate_proj.bias.defined());
  const auto probe = torch::randint(0, 64, {1, 16}, torch::kInt64);
  torch::NoGradGuard g;
  const auto want = fp.forward(probe);
  EXPECT_LE((m.forward(probe) - want).abs().max().item<double>(), 1e-4 * want.abs().max().item<double>());
}

// A run killed after block 1 and resumed from its checkpoint ends where an uninterrupted one does.
void expect_resume_is_bit_identical(const methods::LearnedOptions& o, const std::string& name) {
  set_log_level(LogLevel::warn);
  const auto calib = windows();
  auto whole = model::make_random_model(test::tiny_llama_config(3), 6);
  learned_blocks(whole, w3a8(), o, calib);

  const auto dir = fresh_dir(name);
  auto killed = model::make_random_model(test::tiny_llama_config(3), 6);
  CalibOptions stop_after_1;
  stop_after_1.checkpoint_dir = dir;
  stop_after_1.after_block = [](int64_t block) { return block < 1; };
  EXPECT_FALSE(learned_blocks(killed, w3a8(), o, calib, stop_after_1).completed);

  auto resumed = model::make_random_model(test::tiny_llama_config(3), 6);
  CalibOptions resume;
  resume.checkpoint_dir = dir;
  auto report = learned_blocks(resumed, w3a8(), o, calib, resume);
  EXPECT_TRUE(report.completed);
  EXPECT_EQ(report.resumed_at_block, 2);
  expect_same_blocks(resumed, whole, 3);
}

TEST(LearnedCalibration, ResumeAfterAKillIsBitIdentical) { expect_resume_is_bit_identical(abq_options(2), "resume"); }

TEST(LearnedCalibration, ResumeWithShiftsIsBitIdentical) {
  expect_resume_is_bit_identical(affine_shift_options(2), "resume_shifts");
}

TEST(LearnedCalibration, NonFiniteLossRestartsThenFallsBackToRtn) {
  set_log_level(LogLevel::error);
  auto m = model::make_random_model(test::tiny_llama_config(1), 8);
  auto o = abq_options(1);
  o.let_lr = 1e30;  // the first step blows the scales up: non-finite parameters
  o.lwc_lr = 1e30;
  o.compensation_lr = 1e30;
  o.restart_lr_factor = 1.0;  // restarts keep failing
  o.max_restarts = 1;
  auto report = learned_blocks(m, w3a8(), o, windows());
  ASSERT_EQ(report.fallbacks.size(), 2u);
  EXPECT_EQ(report.fallbacks.back().to, "rtn");
  EXPECT_EQ(report.blocks[0].restarts, 1);
  auto fp = model::make_random_model(test::tiny_llama_config(1), 8);
  quant::QuantSpec s;
  s.bits = 3;
  for (auto kind : model::all_linear_kinds())
    EXPECT_TRUE(torch::allclose(m.weights().layers[0].linear(kind).weight,
                                quant::fake_quant(fp.weights().layers[0].linear(kind).weight, s).fake));
}

}  // namespace
}  // namespace abq::calib

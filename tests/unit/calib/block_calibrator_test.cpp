// The BlockCalibrator extension point: a calibrator written in this file against the interface
// alone runs through calibrate_blocks with no change to the loop (teacher outputs as declared,
// statistics, fallback, resume), the loop's NaN fallback is the same for the closed-form and the
// learned kind, and the registry builds the calibrator of each weight-quantizer type. Expected
// values: the fp weights themselves, RTN of them (quant::fake_quant directly), and the directly
// constructed calibrators' fingerprints.
#include "framework/calib/block_calibrator.h"

#include <unistd.h>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/tiny_llama_config.h"

#include "framework/calib/calibrate_blocks.h"
#include "framework/calib/closed_form_calibrator.h"
#include "framework/calib/learned_calibrator.h"
#include "framework/calib/stream_ops.h"
#include "framework/config/loader.h"
#include "framework/config/validate.h"
#include "framework/core/error.h"
#include "framework/core/log.h"
#include "framework/methods/quantizers/gptq.h"
#include "framework/methods/registry.h"
#include "framework/quant/fake_quant.h"

namespace abq::calib {
namespace {

using model::LinearKind;
using model::LlamaModel;

std::vector<torch::Tensor> windows() {
  torch::manual_seed(33);
  std::vector<torch::Tensor> out;
  for (int i = 0; i < 4; ++i) out.push_back(torch::randint(0, 64, {1, 16}, torch::kInt64));
  return out;
}

quant::QuantSpec w3() {
  quant::QuantSpec s;
  s.bits = 3;
  s.granularity = quant::Granularity::per_channel;
  return s;
}

// W3 per channel on weight sites, A8 per token on activation and KV sites.
SpecForSite w3a8() {
  return [](const std::string& site) {
    const bool weight = site.size() > 7 && site.compare(site.size() - 7, 7, ".weight") == 0;
    if (weight) return w3();
    quant::QuantSpec s;
    s.bits = 8;
    s.granularity = quant::Granularity::per_token;
    return s;
  };
}

std::string fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("abq_block_calibrator_test_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  return dir.string();
}

// What a calibrator was handed for one block.
struct Seen {
  int64_t layer;
  size_t y_fp, attn_fp, y_fp2;
  bool absmax;
};

// A new method in one class: bakes the fp weights unchanged (it scales nothing) and asks for
// every teacher output; poisons block `nan_block`'s down_proj with NaN to exercise the fallback.
class KeepFp final : public BlockCalibrator {
 public:
  explicit KeepFp(int64_t nan_block = -1) : nan_block_(nan_block) {}
  std::string name() const override { return "keep_fp"; }
  TeacherNeeds needs() const override {
    TeacherNeeds n;
    n.attention = n.input_absmax = true;
    return n;
  }
  void add_to_fingerprint(Sha256& h, const model::LlamaModel&, const SpecForSite&) const override { h.update("keep_fp\n"); }
  BlockResult calibrate(const BlockTask& task) override {
    const auto& t = task.teacher;
    seen.push_back({task.layer, t.y_fp.size(), t.attn_fp.size(), t.y_fp2.size(), t.absmax.q_proj_input.defined()});
    BlockResult out;
    out.method = name();
    out.baked = clone_block(task.fp_block);
    if (task.layer == nan_block_) out.baked.down_proj.weight = torch::full_like(out.baked.down_proj.weight, NAN);
    for (LinearKind kind : model::all_linear_kinds()) {
      const auto site = model::site_name(task.layer, model::weight_site(kind));
      out.sites.push_back({site, task.spec_for_site(site), name(), 0.0, INFINITY, 0.0});
    }
    return out;
  }
  std::vector<Seen> seen;

 private:
  int64_t nan_block_;
};

// Fault injection around any calibrator: NaN in block `block`'s baked down_proj.
class NanInBlock final : public BlockCalibrator {
 public:
  NanInBlock(BlockCalibrator& inner, int64_t block) : inner_(inner), block_(block) {}
  std::string name() const override { return inner_.name(); }
  TeacherNeeds needs() const override { return inner_.needs(); }
  void add_to_fingerprint(Sha256& h, const model::LlamaModel& m, const SpecForSite& s) const override {
    inner_.add_to_fingerprint(h, m, s);
  }
  BlockResult calibrate(const BlockTask& task) override {
    auto r = inner_.calibrate(task);
    if (task.layer == block_) r.baked.down_proj.weight = torch::full_like(r.baked.down_proj.weight, NAN);
    return r;
  }

 private:
  BlockCalibrator& inner_;
  int64_t block_;
};

bool same_weights(const LlamaModel& a, const LlamaModel& b, size_t block) {
  for (LinearKind kind : model::all_linear_kinds())
    if (!torch::equal(a.weights().layers[block].linear(kind).weight, b.weights().layers[block].linear(kind).weight))
      return false;
  return true;
}

bool rtn_of(const LlamaModel& m, const LlamaModel& fp, size_t block) {
  for (LinearKind kind : model::all_linear_kinds())
    if (!torch::equal(m.weights().layers[block].linear(kind).weight,
                      quant::fake_quant(fp.weights().layers[block].linear(kind).weight, w3()).fake))
      return false;
  return true;
}

class BlockCalibratorTest : public ::testing::Test {
 protected:
  void SetUp() override { set_log_level(LogLevel::warn); }
};

TEST_F(BlockCalibratorTest, ANewCalibratorRunsThroughTheLoop) {
  const auto fp = model::make_random_model(test::tiny_llama_config(2), 1);
  auto m = model::make_random_model(test::tiny_llama_config(2), 1);
  KeepFp keep;
  const auto report = calibrate_blocks(m, w3a8(), keep, windows());
  EXPECT_TRUE(report.completed);
  EXPECT_TRUE(report.fallbacks.empty());
  ASSERT_EQ(keep.seen.size(), 2u);
  for (const auto& s : keep.seen) {  // Y_fp always, the rest as declared, Y_fp2 for measure_local_error
    EXPECT_EQ(s.y_fp, 4u);
    EXPECT_EQ(s.attn_fp, 4u);
    EXPECT_EQ(s.y_fp2, 4u);
    EXPECT_TRUE(s.absmax);
  }
  EXPECT_TRUE(same_weights(m, fp, 0) && same_weights(m, fp, 1));
  ASSERT_EQ(report.sites.size(), 14u);
  EXPECT_EQ(report.sites[13].quantizer, "keep_fp");
  // The fp weights and no activation hooks: the quantized stream is the fp stream, bit for bit.
  ASSERT_EQ(report.blocks.size(), 2u);
  EXPECT_EQ(report.blocks[1].output_mse, 0.0);
  EXPECT_EQ(report.blocks[1].local_mse, 0.0);
}

TEST_F(BlockCalibratorTest, ANonFiniteOutputOfANewCalibratorFallsBackToRtn) {
  const auto fp = model::make_random_model(test::tiny_llama_config(2), 2);
  auto m = model::make_random_model(test::tiny_llama_config(2), 2);
  KeepFp poisoned(/*nan_block=*/1);
  set_log_level(LogLevel::error);  // the fallback warning is expected here
  const auto report = calibrate_blocks(m, w3a8(), poisoned, windows());
  ASSERT_EQ(report.fallbacks.size(), 1u);
  EXPECT_EQ(report.fallbacks[0].block, 1);
  EXPECT_EQ(report.fallbacks[0].from, "keep_fp");
  EXPECT_EQ(report.fallbacks[0].to, "rtn");
  EXPECT_EQ(report.fallbacks[0].reason, "layers.1: non-finite values in the quantized block's output");
  EXPECT_TRUE(same_weights(m, fp, 0));
  EXPECT_TRUE(rtn_of(m, fp, 1));
  ASSERT_EQ(report.sites.size(), 14u);
  EXPECT_EQ(report.sites[6].quantizer, "keep_fp");
  EXPECT_EQ(report.sites[7].quantizer, "rtn");
  EXPECT_GT(report.blocks[1].output_mse, 0.0);
}

// The same NaN in the closed-form (GPTQ) and the learned kind's block 1: one fallback path.
TEST_F(BlockCalibratorTest, FallbackIsTheSameForEveryKind) {
  methods::GptqQuantizer gptq;
  ClosedFormCalibrator closed_form(gptq);
  methods::LearnedOptions options;
  options.epochs = 1;
  LearnedCalibrator learned(options);
  set_log_level(LogLevel::error);
  for (BlockCalibrator* inner : std::vector<BlockCalibrator*>{&closed_form, &learned}) {
    SCOPED_TRACE(inner->name());
    const auto fp = model::make_random_model(test::tiny_llama_config(2), 3);
    auto m = model::make_random_model(test::tiny_llama_config(2), 3);
    NanInBlock faulty(*inner, 1);
    const auto report = calibrate_blocks(m, w3a8(), faulty, windows());
    ASSERT_EQ(report.fallbacks.size(), 1u);
    EXPECT_EQ(report.fallbacks[0].from, inner->name());
    EXPECT_EQ(report.fallbacks[0].to, "rtn");
    EXPECT_TRUE(rtn_of(m, fp, 1));
    EXPECT_FALSE(rtn_of(m, fp, 0)) << "block 0 keeps the calibrator's result";
    EXPECT_TRUE(torch::isfinite(m.weights().layers[1].down_proj.weight).all().item<bool>());
  }
}

TEST_F(BlockCalibratorTest, ANewCalibratorResumesFromItsCheckpoint) {
  const auto dir = fresh_dir("resume");
  auto killed = model::make_random_model(test::tiny_llama_config(3), 4);
  KeepFp first;
  CalibOptions options;
  options.checkpoint_dir = dir;
  options.after_block = [](int64_t block) { return block < 0; };
  EXPECT_FALSE(calibrate_blocks(killed, w3a8(), first, windows(), options).completed);

  auto resumed = model::make_random_model(test::tiny_llama_config(3), 4);
  KeepFp second;
  options.after_block = nullptr;
  const auto report = calibrate_blocks(resumed, w3a8(), second, windows(), options);
  EXPECT_TRUE(report.completed);
  EXPECT_EQ(report.resumed_at_block, 1);
  ASSERT_EQ(second.seen.size(), 2u);
  EXPECT_EQ(second.seen[0].layer, 1);
  EXPECT_EQ(report.blocks.size(), 3u);
}

std::string fingerprint_of(const BlockCalibrator& c, const LlamaModel& m) {
  Sha256 h;
  c.add_to_fingerprint(h, m, w3a8());
  return h.hex_digest();
}

YAML::Node defaults(const std::string& type) {
  return config::validate(config::parse_config("{}\n", "options.yaml"), methods::options_schema(type));
}

// The registry's calibrators are the direct ones: same kind, same fingerprint (so a checkpoint of
// either resumes with the other).
TEST_F(BlockCalibratorTest, RegistryBuildsTheCalibratorOfEachType) {
  const auto m = model::make_random_model(test::tiny_llama_config(2), 5);
  EXPECT_FALSE(methods::weight_quantizer_needs_calibration("rtn"));
  for (const std::string type : {"awq_clip", "gptq", "learned"}) EXPECT_TRUE(methods::weight_quantizer_needs_calibration(type));
  // Per-weight quantizers return codes (packed execution runs them); learned bakes fake weights only.
  for (const std::string type : {"awq_clip", "gptq", "rtn"}) EXPECT_TRUE(methods::weight_quantizer_keeps_codes(type));
  EXPECT_FALSE(methods::weight_quantizer_keeps_codes("learned"));

  const auto gptq = methods::make_block_calibrator("gptq", defaults("gptq"));
  methods::GptqQuantizer direct_gptq;
  EXPECT_EQ(gptq->name(), "gptq");
  EXPECT_FALSE(gptq->needs().spec_activation_quantizers);
  EXPECT_EQ(fingerprint_of(*gptq, m), fingerprint_of(ClosedFormCalibrator(direct_gptq), m));

  const auto learned = methods::make_block_calibrator("learned", defaults("learned"));
  EXPECT_EQ(learned->name(), "learned");
  EXPECT_TRUE(learned->needs().spec_activation_quantizers);
  EXPECT_EQ(fingerprint_of(*learned, m), fingerprint_of(LearnedCalibrator(methods::LearnedOptions{}), m));

  EXPECT_EQ(methods::make_block_calibrator("rtn", defaults("rtn"))->name(), "rtn");
  EXPECT_THROW(methods::make_weight_quantizer("learned", defaults("learned")), ConfigError);
}

}  // namespace
}  // namespace abq::calib

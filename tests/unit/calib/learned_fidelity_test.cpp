// Learned block calibration against an independent PyTorch re-implementation of the reference
// training loops (tools/fixtures/calib_learned_reference.py -> tests/fixtures/calib/learned_cases.json,
// following bytedance/ABQ-LLM quantizer.py / utils.py / abq_llm.py, OmniQuant and AffineQuant; spec
// abq-llm-algorithm.md §4-§11, §18, §19). Same block weights, same inputs; checked here:
//   the fp teacher (block output and head-mean attention), the activation abs-max statistics that
//   initialise LET, the loss of every optimizer step (the first one is the initialisation's loss),
//   and every learned parameter after the last step: LWC factors, scales, matrices and, for the
//   AffineQuant cases, the shifts (bytedance/AffineQuant models/transformation.py semantics).
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "framework/methods/learned/block_trainer.h"
#include "framework/model/rope.h"
#include "framework/quant/fake_quant.h"

namespace abq::methods {
namespace {

using nlohmann::json;
using model::LinearKind;
using model::SiteKind;

const json& fixture() {
  static const json doc = [] {
    std::ifstream in(std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/calib/learned_cases.json");
    EXPECT_TRUE(in.good()) << "missing tests/fixtures/calib/learned_cases.json";
    return json::parse(in);
  }();
  return doc;
}

torch::Tensor tensor_of(const json& values, std::vector<int64_t> shape) {
  auto v = values.get<std::vector<float>>();
  return torch::tensor(v, torch::kFloat32).reshape(shape);
}
torch::Tensor tensor_of(const json& entry) { return tensor_of(entry.at("values"), entry.at("shape").get<std::vector<int64_t>>()); }

struct Fixture {
  model::DecoderBlock block;
  model::AttentionDims dims;
  double eps = 0;
  model::RopeTable rope;
  int64_t T = 0, C = 0;
  std::vector<torch::Tensor> inputs;
};

Fixture load_fixture() {
  const auto& doc = fixture();
  const auto& c = doc.at("config");
  Fixture f;
  f.C = c.at("C").get<int64_t>();
  f.T = c.at("T").get<int64_t>();
  f.dims = {c.at("H").get<int64_t>(), c.at("Hkv").get<int64_t>(), c.at("D").get<int64_t>()};
  f.eps = c.at("rms_eps").get<double>();
  model::RopeCache cache(model::rope_inv_freq(f.dims.head_dim, c.at("rope_theta").get<double>(), {}));
  f.rope = cache.get(f.T, torch::kCPU, torch::kFloat32);
  const auto& w = doc.at("weights");
  f.block.input_norm = tensor_of(w.at("input_norm"));
  f.block.post_attention_norm = tensor_of(w.at("post_attention_norm"));
  for (LinearKind kind : model::all_linear_kinds()) {
    std::string name = model::linear_name(kind);
    name = name.substr(name.find('.') + 1);
    f.block.linear(kind).weight = tensor_of(w.at(name));
  }
  for (const auto& x : doc.at("inputs")) f.inputs.push_back(tensor_of(x, {1, f.T, f.C}));
  return f;
}

LearnedOptions options_of(const json& c) {
  LearnedOptions o;
  o.epochs = c.at("epochs").get<int64_t>();
  o.lwc = true;
  o.let = c.at("let").get<bool>();
  o.pairs.fc2 = c.at("fc2").get<bool>();
  o.compensation = c.at("comp").get<bool>();
  o.affine.ln_matrix = c.at("ln_matrix").get<bool>();
  o.affine.out_matrix = c.at("out_matrix").get<bool>();
  o.affine.qk_matrix = c.at("qk_matrix").get<bool>();
  o.shifts = c.at("shifts").get<bool>();
  o.affine.stability_factor = c.at("sf").get<double>();
  o.loss.aug_mse = c.at("aug").get<bool>();
  o.loss.dlc = c.at("dlc").get<bool>();
  o.loss.attention_kl = c.at("kl").get<bool>();
  return o;
}

BlockSetup setup_of(const Fixture& f, const json& c, const ActivationAbsMax& absmax) {
  BlockSetup s;
  s.dims = f.dims;
  s.rms_eps = f.eps;
  s.rope = f.rope;
  quant::QuantSpec w;
  w.bits = c.at("wbits").get<int>();
  w.bit_balance = c.at("bit_balance").get<bool>();
  const int64_t group = c.at("group").get<int64_t>();
  if (group > 0) {
    w.granularity = quant::Granularity::per_group;
    w.group_size = group;
  }
  s.weight_specs.fill(w);
  quant::QuantSpec a;
  a.bits = c.at("abits").get<int>();
  a.granularity = quant::Granularity::per_token;
  if (a.enabled())
    for (SiteKind kind : model::all_site_kinds())
      if (!model::is_weight(kind)) s.activation_hooks.at[size_t(kind)] = [a](const torch::Tensor& x) { return quant::fake_quant(x, a).fake; };
  s.act_absmax = absmax;
  s.compensation = c.at("comp").get<bool>();
  return s;
}

void expect_close(const torch::Tensor& got, const torch::Tensor& want, double atol, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const double diff = (got.detach() - want).abs().max().item<double>();
  EXPECT_LE(diff, atol) << what << ": max |diff| " << diff;
}

ActivationAbsMax observe_absmax(const Fixture& f, std::vector<torch::Tensor>* y, std::vector<torch::Tensor>* attn) {
  ActivationAbsMax m;
  auto observer = [](torch::Tensor* r) {
    return [r](const torch::Tensor& x) {
      auto v = x.abs().reshape({-1, x.size(-1)}).amax(0);
      *r = r->defined() ? torch::maximum(*r, v) : v;
      return x;
    };
  };
  model::LayerHooks hooks;
  hooks.at[size_t(SiteKind::q_proj_input)] = observer(&m.q_proj_input);
  hooks.at[size_t(SiteKind::up_proj_input)] = observer(&m.up_proj_input);
  hooks.at[size_t(SiteKind::o_proj_input)] = observer(&m.o_proj_input);
  hooks.at[size_t(SiteKind::down_proj_input)] = observer(&m.down_proj_input);
  for (const auto& x : f.inputs) {
    torch::Tensor probs;
    y->push_back(model::decoder_block_forward(x, f.block, f.dims, f.eps, f.rope, &hooks, &probs));
    attn->push_back(probs.mean(1));
  }
  return m;
}

class LearnedFidelity : public ::testing::TestWithParam<int> {};

TEST_P(LearnedFidelity, MatchesTheReferenceLoop) {
  torch::NoGradGuard outer_guard;  // the trainer enables gradients where it needs them
  const Fixture f = load_fixture();
  const auto& expected = fixture().at("cases").at(size_t(GetParam()));
  const auto& c = expected.at("case");
  SCOPED_TRACE(expected.at("name").get<std::string>());

  std::vector<torch::Tensor> y_fp, attn_fp;
  const auto absmax = observe_absmax(f, &y_fp, &attn_fp);
  for (size_t j = 0; j < y_fp.size(); ++j) {
    expect_close(y_fp[j], tensor_of(expected.at("y_fp")[j], {1, f.T, f.C}), 1e-5, "teacher output");
    expect_close(attn_fp[j], tensor_of(expected.at("attn_fp")[j], {1, f.T, f.T}), 1e-6, "teacher attention");
  }
  const auto& acts = expected.at("act_scales");
  expect_close(absmax.q_proj_input, tensor_of(acts.at("q_proj"), {f.C}), 1e-5, "act scale q_proj");
  expect_close(absmax.o_proj_input, tensor_of(acts.at("o_proj"), {-1}), 1e-5, "act scale o_proj");
  expect_close(absmax.down_proj_input, tensor_of(acts.at("down_proj"), {-1}), 1e-5, "act scale down_proj");

  torch::AutoGradMode enable(true);
  BlockTrainer trainer(f.block, setup_of(f, c, absmax), options_of(c));
  const auto losses = expected.at("losses").get<std::vector<double>>();
  // On the 5-level 2-bit grid many weights sit on a rounding or clamping boundary, so float
  // summation-order differences between LibTorch and PyTorch flip a few codes after some steps;
  // the trajectories then agree to ~1e-3 instead of ~1e-6.
  const bool coarse = c.at("wbits").get<int>() <= 2;
  const double loss_rtol = coarse ? 3e-3 : 1e-4, param_atol = coarse ? 1e-3 : 2e-4;
  size_t k = 0;
  for (int64_t e = 0; e < c.at("epochs").get<int64_t>(); ++e) {
    trainer.begin_epoch(e);
    for (size_t j = 0; j < f.inputs.size(); ++j, ++k) {
      auto x_q = tensor_of(expected.at("x_q")[j], {1, f.T, f.C});
      auto y_fp2 = tensor_of(expected.at("y_fp2")[j], {1, f.T, f.C});
      const double loss = trainer.step(x_q, y_fp[j], y_fp2, attn_fp[j]).total.item<double>();
      EXPECT_NEAR(loss, losses[k], 1e-5 + loss_rtol * std::abs(losses[k])) << "step " << k;
    }
  }
  ASSERT_EQ(k, losses.size());

  const auto& params = expected.at("params");
  size_t compared = 0;
  for (const auto& [name, t] : trainer.transform().named()) {
    ASSERT_TRUE(params.contains(name)) << name << " is not in the reference";
    expect_close(t, tensor_of(params.at(name)).reshape(t.sizes()), param_atol, name);
    ++compared;
  }
  for (LinearKind kind : model::all_linear_kinds()) {
    std::string name = model::linear_name(kind);
    name = "lwc." + name.substr(name.find('.') + 1);
    const auto& clip = trainer.clip_factors()[size_t(kind)];
    expect_close(clip.up.reshape({-1}), tensor_of(params.at(name + ".up")).reshape({-1}), param_atol, name + ".up");
    expect_close(clip.low.reshape({-1}), tensor_of(params.at(name + ".low")).reshape({-1}), param_atol, name + ".low");
    compared += 2;
  }
  EXPECT_EQ(compared, params.size()) << "every reference parameter has a counterpart";
}

std::string case_name(const ::testing::TestParamInfo<int>& info) {
  return fixture().at("cases").at(size_t(info.param)).at("name").get<std::string>();
}

INSTANTIATE_TEST_SUITE_P(Cases, LearnedFidelity, ::testing::Range(0, 5), case_name);

}  // namespace
}  // namespace abq::methods

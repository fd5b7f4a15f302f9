// calib::CalibrationSensitivity against measurements made by hand on the tiny model: Hessians
// 2/N·Σxᵀx of inputs captured with a hook on the full forward (float64), block outputs with one
// weight replaced by quant::fake_quant (or one hook installed), and the KL of the two logit sets.
#include "framework/calib/sensitivity.h"

#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/model/llama_model.h"
#include "framework/quant/fake_quant.h"
#include "tests/support/tiny_llama_config.h"

namespace abq::calib {
namespace {

using model::LinearKind;

std::vector<torch::Tensor> windows() {
  torch::manual_seed(5);
  std::vector<torch::Tensor> w;
  for (int i = 0; i < 3; ++i) w.push_back(torch::randint(0, 64, {1, 12}, torch::kInt64));
  return w;
}

quant::QuantSpec spec(int bits, quant::Granularity g = quant::Granularity::per_channel, bool dynamic = true) {
  quant::QuantSpec s;
  s.bits = bits;
  s.granularity = g;
  s.dynamic = dynamic;
  return s;
}

// fp block inputs of `layer` for every window, by running the blocks one after the other.
std::vector<torch::Tensor> fp_inputs(const model::LlamaModel& m, int64_t layer, const std::vector<torch::Tensor>& ws) {
  std::vector<torch::Tensor> xs;
  for (const auto& w : ws) {
    auto x = m.embed(w);
    for (int64_t l = 0; l < layer; ++l) x = m.block_forward(l, x);
    xs.push_back(x);
  }
  return xs;
}

double mse64(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double sum = 0, n = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sum += (a[i].to(torch::kFloat64) - b[i].to(torch::kFloat64)).square().sum().item<double>();
    n += double(a[i].numel());
  }
  return sum / n;
}

class Sensitivity : public ::testing::Test {
 protected:
  model::LlamaModel model = model::make_random_model(test::tiny_llama_config(3, 2), 11);
  std::vector<torch::Tensor> calibration = windows();
  torch::NoGradGuard no_grad;
};

TEST_F(Sensitivity, InputHessianIsTwoOverNTimesTheSumOfXtX) {
  torch::Tensor sum = torch::zeros({64, 64}, torch::kFloat64);
  model.set_activation_hook(1, model::SiteKind::down_proj_input, [&](const torch::Tensor& x) {
    auto x2 = x.reshape({-1, x.size(-1)}).to(torch::kFloat64);
    sum += x2.t().matmul(x2);
    return x;
  });
  for (const auto& w : calibration) model.forward(w);
  model.clear_activation_hooks();
  const auto expected = sum * (2.0 / 3.0);

  CalibrationSensitivity service(model, calibration);
  const auto h = service.input_hessian("layers.1.mlp.down_proj.weight");
  EXPECT_TRUE(torch::allclose(h.to(torch::kFloat64), expected, 1e-5, 1e-5));
  EXPECT_TRUE(torch::equal(service.input_hessian("layers.1.mlp.down_proj.weight"), h));  // cached
  EXPECT_THROW(service.input_hessian("layers.1.mlp.down_proj.input"), Error);
}

TEST_F(Sensitivity, BlockOutputErrorOfOneWeightMatchesAHandRunAndLeavesTheModelAsItWas) {
  const auto xs = fp_inputs(model, 2, calibration);
  std::vector<torch::Tensor> fp, q;
  for (const auto& x : xs) fp.push_back(model.block_forward(2, x));
  auto& up = model.weights().layers[2].linear(LinearKind::up_proj);
  const torch::Tensor original = up.weight.clone();
  up.weight = quant::fake_quant(original, spec(3)).fake;
  for (const auto& x : xs) q.push_back(model.block_forward(2, x));
  up.weight = original.clone();
  const double expected = mse64(q, fp);
  ASSERT_GT(expected, 0.0);

  CalibrationSensitivity service(model, calibration);
  EXPECT_NEAR(service.block_output_mse("layers.2.mlp.up_proj.weight", spec(3)), expected, 1e-9 * expected + 1e-15);
  EXPECT_TRUE(torch::equal(model.weights().layers[2].linear(LinearKind::up_proj).weight, original));
  // Back to an earlier layer (the stream restarts), then a coarser grid costs more.
  const double w8 = service.block_output_mse("layers.0.self_attn.q_proj.weight", spec(8));
  const double w2 = service.block_output_mse("layers.0.self_attn.q_proj.weight", spec(2));
  EXPECT_LT(w8, w2);
  EXPECT_NEAR(service.block_output_mse("layers.2.mlp.up_proj.weight", spec(3)), expected, 1e-9 * expected + 1e-15);
}

TEST_F(Sensitivity, ActivationSitesAreMeasuredThroughAHookDynamicOrStatic) {
  const auto xs = fp_inputs(model, 1, calibration);
  std::vector<torch::Tensor> fp, dyn, stat;
  for (const auto& x : xs) fp.push_back(model.block_forward(1, x));
  const auto a4 = spec(4, quant::Granularity::per_token);
  model.set_activation_hook(1, model::SiteKind::o_proj_input, [&](const torch::Tensor& x) { return quant::fake_quant(x, a4).fake; });
  for (const auto& x : xs) dyn.push_back(model.block_forward(1, x));
  const auto s4 = spec(4, quant::Granularity::per_tensor, false);
  quant::RangeObserver observer(s4);
  model.set_activation_hook(1, model::SiteKind::o_proj_input, [&](const torch::Tensor& x) { observer.observe(x); return x; });
  for (const auto& x : xs) model.block_forward(1, x);
  model.set_activation_hook(1, model::SiteKind::o_proj_input, [&](const torch::Tensor& x) { return observer.quantize(x).fake; });
  for (const auto& x : xs) stat.push_back(model.block_forward(1, x));
  model.clear_activation_hooks();

  CalibrationSensitivity service(model, calibration);
  const double d = mse64(dyn, fp), s = mse64(stat, fp);
  EXPECT_NEAR(service.block_output_mse("layers.1.self_attn.o_proj.input", a4), d, 1e-9 * d);
  EXPECT_NEAR(service.block_output_mse("layers.1.self_attn.o_proj.input", s4), s, 1e-9 * s);
  EXPECT_NE(d, s);
  EXPECT_FALSE(model.activation_hooks()[1].at[size_t(model::SiteKind::o_proj_input)]);  // nothing left behind
}

TEST_F(Sensitivity, OutputKlIsTheMeanPerTokenKlOfTheTwoModels) {
  double sum = 0;
  int64_t tokens = 0;
  auto& v = model.weights().layers[1].linear(LinearKind::v_proj);
  const torch::Tensor original = v.weight.clone();
  for (const auto& w : calibration) {
    auto p = torch::log_softmax(model.forward(w).to(torch::kFloat64), -1);
    v.weight = quant::fake_quant(original, spec(2)).fake;
    auto q = torch::log_softmax(model.forward(w).to(torch::kFloat64), -1);
    v.weight = original.clone();
    sum += (p.exp() * (p - q)).sum().item<double>();
    tokens += w.numel();
  }
  const double expected = sum / double(tokens);
  ASSERT_GT(expected, 0.0);
  CalibrationSensitivity service(model, calibration);
  EXPECT_NEAR(service.output_kl("layers.1.self_attn.v_proj.weight", spec(2)), expected, 1e-9 * expected);
  EXPECT_LT(service.output_kl("layers.1.self_attn.v_proj.weight", spec(8)), expected);
}

TEST_F(Sensitivity, UnknownSitesAreNamed) {
  CalibrationSensitivity service(model, calibration);
  try {
    service.block_output_mse("layers.9.mlp.up_proj.weight", spec(4));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layers.9.mlp.up_proj.weight"), std::string::npos) << e.what();
  }
}


TEST_F(Sensitivity, GroupBlockErrorQuantizesEveryMemberAtOnce) {
  // q, k and v of block 1 replaced together by hand, against the service's group measurement.
  const auto xs = fp_inputs(model, 1, calibration);
  std::vector<torch::Tensor> fp, q;
  for (const auto& x : xs) fp.push_back(model.block_forward(1, x));
  auto& b = model.weights().layers[1];
  std::vector<torch::Tensor> saved;
  for (auto kind : {LinearKind::q_proj, LinearKind::k_proj, LinearKind::v_proj}) {
    saved.push_back(b.linear(kind).weight.clone());
    b.linear(kind).weight = quant::fake_quant(saved.back(), spec(2)).fake;
  }
  for (const auto& x : xs) q.push_back(model.block_forward(1, x));
  int i = 0;
  for (auto kind : {LinearKind::q_proj, LinearKind::k_proj, LinearKind::v_proj}) b.linear(kind).weight = saved[size_t(i++)];
  const double expected = mse64(q, fp);

  CalibrationSensitivity service(model, calibration);
  const methods::SiteSpecs qkv{{"layers.1.self_attn.q_proj.weight", spec(2)},
                               {"layers.1.self_attn.k_proj.weight", spec(2)},
                               {"layers.1.self_attn.v_proj.weight", spec(2)}};
  EXPECT_NEAR(service.block_output_mse(qkv), expected, 1e-9 * expected);
  EXPECT_GT(service.block_output_mse(qkv), service.block_output_mse("layers.1.self_attn.q_proj.weight", spec(2)));
  EXPECT_TRUE(torch::equal(b.linear(LinearKind::k_proj).weight, saved[1]));
  EXPECT_THROW(service.block_output_mse({{"layers.0.mlp.up_proj.weight", spec(2)}, {"layers.1.mlp.up_proj.weight", spec(2)}}),
               Error);
}

TEST_F(Sensitivity, FisherDiagonalMatchesCentralDifferencesOfTheLoss) {
  // Reference: dL/dw by central differences of the window's mean next-token cross-entropy
  // (float64 accumulation of the fp32 forward), squared and averaged over the windows.
  auto loss = [&](const torch::Tensor& w) {
    const auto logits = model.forward(w).to(torch::kFloat64);
    const int64_t t = logits.size(1);
    return torch::nn::functional::cross_entropy(logits.slice(1, 0, t - 1).reshape({t - 1, -1}),
                                                w.slice(1, 1, t).reshape({t - 1}))
        .item<double>();
  };
  CalibrationSensitivity service(model, calibration);
  const torch::Tensor fisher = service.weight_fisher("layers.1.mlp.down_proj.weight");
  ASSERT_EQ(fisher.sizes(), (std::vector<int64_t>{32, 64}));
  auto& down = model.weights().layers[1].linear(LinearKind::down_proj);
  EXPECT_FALSE(down.weight.requires_grad());
  for (auto [r, c] : {std::pair<int64_t, int64_t>{0, 0}, {5, 17}, {31, 63}}) {
    double mean_g2 = 0;
    for (const auto& w : calibration) {
      const float h = 1e-2f, keep = down.weight[r][c].item<float>();
      down.weight[r][c] = keep + h;
      const double up = loss(w);
      down.weight[r][c] = keep - h;
      const double dn = loss(w);
      down.weight[r][c] = keep;
      const double g = (up - dn) / (2 * double(h));
      mean_g2 += g * g / double(calibration.size());
    }
    EXPECT_NEAR(fisher[r][c].item<double>(), mean_g2, 2e-2 * mean_g2 + 1e-9) << r << "," << c;
  }
  EXPECT_TRUE(torch::equal(service.weight_fisher("layers.1.mlp.down_proj.weight"), fisher));  // one pass for all
}

}  // namespace
}  // namespace abq::calib

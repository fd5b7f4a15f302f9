// The packed GEMM against two references:
//  * exactness of the K padding: with quantized activations the output equals, bit for bit,
//    kernels.h's formula evaluated here on the UNPADDED operands (int64 group sums over
//    fake_quant's own ragged groups, then the fp32 epilogue acc = fma(sw, float(I), acc),
//    y = fma(acc, sx, bias) of gemm_reference.h), so the padding adds exactly nothing; weight-only
//    outputs agree within fp32 rounding (the backend's fp32 summation order vs double here);
//  * the simulated model: fake_quant(x) · fake_quant(W)ᵀ in float64 (quant/fake_quant.h), within
//    fp32 rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "framework/core/error.h"
#include "framework/packed/kernel_format.h"
#include "framework/packed/packed_gemm.h"
#include "framework/packed/packed_linear.h"
#include "framework/quant/fake_quant.h"
#include "tests/support/quant_spec_builder.h"

namespace abq::packed {
namespace {

using quant::Granularity;
using quant::QuantSpec;

using test::quant_spec;

struct Case {
  QuantSpec w, a;
};

std::vector<Case> cases() {
  const QuantSpec a16 = quant_spec(16, Granularity::per_token, 0, false);
  return {{quant_spec(8, Granularity::per_channel, 0, true), quant_spec(8, Granularity::per_token, 0, true)},    // W8A8
          {quant_spec(4, Granularity::per_channel, 0, false), quant_spec(8, Granularity::per_token, 0, false)},  // W4A8
          {quant_spec(4, Granularity::per_group, 128, false), a16},                                       // W4A16 g128
          {quant_spec(3, Granularity::per_channel, 0, false), a16},                                       // W3A16
          {quant_spec(2, Granularity::per_group, 64, false, true), a16},                                  // W2*A16
          {quant_spec(2, Granularity::per_group, 128, false), quant_spec(8, Granularity::per_token, 0, false)},  // W2A8
          {quant_spec(2, Granularity::per_group, 64, false, true), quant_spec(2, Granularity::per_token, 0, false, true)}};  // W2*A2*
}

// kernels.h's formula on unpadded operands with fake_quant's groups (the last one may be short).
std::vector<float> exact_unpadded(const torch::Tensor& wc, const torch::Tensor& ws, const torch::Tensor& wz,
                                  const QuantSpec& w, const torch::Tensor& x, const QuantSpec& a) {
  const int64_t n = wc.size(0), k = wc.size(1), m = x.size(0);
  const int64_t L = w.granularity == Granularity::per_group ? w.group_size : k, G = (k + L - 1) / L;
  auto scale_at = [&](int64_t r, int64_t g) {
    return ws.numel() == 1 ? ws.reshape({-1})[0].item<float>() : ws.reshape({n, -1})[r][g].item<float>();
  };
  auto zero_at = [&](int64_t r, int64_t g) {
    return int64_t(wz.numel() == 1 ? wz.reshape({-1})[0].item<float>() : wz.reshape({n, -1})[r][g].item<float>());
  };
  quant::FakeQuantOptions with_codes;
  with_codes.with_codes = true;
  const bool fp = !a.enabled();
  const auto xq = fp ? quant::QuantizedTensor{} : quant::fake_quant(x, a, with_codes);
  std::vector<float> y(size_t(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t r = 0; r < n; ++r) {
      float acc = 0.0f;
      for (int64_t g = 0; g < G; ++g) {
        const int64_t zw = w.symmetric ? 0 : zero_at(r, g);
        if (fp) {
          double s = 0;
          for (int64_t j = g * L; j < std::min(k, (g + 1) * L); ++j)
            s += double(x[i][j].item<float>()) * double(wc[r][j].item<int32_t>() - zw);
          acc = std::fma(scale_at(r, g), float(s), acc);
        } else {
          const int64_t zx = a.symmetric ? 0 : int64_t(xq.zero[i][0].item<float>());
          int64_t s = 0;
          for (int64_t j = g * L; j < std::min(k, (g + 1) * L); ++j)
            s += (int64_t(xq.codes[i][j].item<int32_t>()) - zx) * (int64_t(wc[r][j].item<int32_t>()) - zw);
          acc = std::fma(scale_at(r, g), float(s), acc);
        }
      }
      y[size_t(i * n + r)] = fp ? acc : std::fma(acc, xq.scale[i][0].item<float>(), 0.0f);
    }
  return y;
}

TEST(PackedGemm, PaddedKAddsExactlyNothing) {
  torch::manual_seed(11);
  for (int64_t k : {200, 96, 128})
    for (const auto& c : cases()) {
      const auto w = torch::randn({6, k});
      const auto x = torch::randn({3, k});
      quant::FakeQuantOptions with_codes;
      with_codes.with_codes = true;
      const auto q = quant::fake_quant(w, c.w, with_codes);
      const auto linear = make_packed_linear(pack_quantized(c.w, q.codes, q.scale, q.zero), c.a);
      std::vector<float> y(3 * 6);
      packed_gemm(linear->weight(), activation_format(c.a), x.contiguous().data_ptr<float>(), 3, nullptr, y.data());
      const auto want = exact_unpadded(q.codes, q.scale, q.zero, c.w, x, c.a);
      float scale = 0;
      for (float v : want) scale = std::max(scale, std::fabs(v));
      for (size_t i = 0; i < y.size(); ++i) {
        if (c.a.enabled())  // integer paths: bit for bit
          ASSERT_EQ(y[i], want[i]) << quant::describe(c.w, "w") << " " << quant::describe(c.a, "a") << " K " << k << " at " << i;
        else  // weight-only: the backend sums in fp32 in its own order
          ASSERT_NEAR(y[i], want[i], 1e-5f * scale) << quant::describe(c.w, "w") << " K " << k << " at " << i;
      }
    }
}

TEST(PackedGemm, MatchesTheSimulatedLinearWithinFp32Rounding) {
  torch::manual_seed(5);
  for (const auto& c : cases()) {
    const int64_t k = 576, n = 40, m = 9;
    const auto w = torch::randn({n, k}) * 0.05;
    const auto x_flat = torch::randn({m, k});
    quant::FakeQuantOptions with_codes;
    with_codes.with_codes = true;
    const auto q = quant::fake_quant(w, c.w, with_codes);
    const auto bias = torch::randn({n});
    const auto linear = make_packed_linear(pack_quantized(c.w, q.codes, q.scale, q.zero), c.a);
    const auto y = linear->forward(x_flat, bias).to(torch::kFloat64);
    const auto xs = c.a.enabled() ? quant::fake_quant(x_flat, c.a).fake : x_flat;
    const auto want = torch::linear(xs.to(torch::kFloat64), q.fake.to(torch::kFloat64), bias.to(torch::kFloat64));
    const double err = (y - want).abs().max().item<double>(), scale = want.abs().max().item<double>();
    EXPECT_LT(err, 1e-5 * scale) << quant::describe(c.w, "w") << " " << quant::describe(c.a, "a");
    EXPECT_EQ(linear->in_features(), k);
    EXPECT_EQ(linear->out_features(), n);
    EXPECT_TRUE(torch::equal(linear->dequantized(), q.fake));
  }
}

TEST(PackedGemm, BothZeroPointsOutsideTheirRangesIsAClearError) {
  // Weights of the padded group all positive (z_w < 0) and a token of positive values (z_x < 0).
  auto w = torch::rand({2, 200}) + 1.0;
  quant::FakeQuantOptions with_codes;
  with_codes.with_codes = true;
  const QuantSpec ws = quant_spec(4, Granularity::per_group, 128, false), as = quant_spec(8, Granularity::per_token, 0, false);
  const auto q = quant::fake_quant(w, ws, with_codes);
  const auto linear = make_packed_linear(pack_quantized(ws, q.codes, q.scale, q.zero), as);
  ASSERT_FALSE(linear->weight().padding_exact);
  // A token that spans 0 pads with its own zero-point: still exact.
  const auto mixed = torch::randn({1, 200});
  std::vector<float> y(2);
  EXPECT_NO_THROW(packed_gemm(linear->weight(), activation_format(as), mixed.contiguous().data_ptr<float>(), 1, nullptr, y.data()));
  const auto want = exact_unpadded(q.codes, q.scale, q.zero, ws, mixed, as);
  EXPECT_EQ(y[0], want[0]);
  EXPECT_EQ(y[1], want[1]);
  const auto positive = torch::rand({1, 200}) + 0.5;
  try {
    packed_gemm(linear->weight(), activation_format(as), positive.contiguous().data_ptr<float>(), 1, nullptr, y.data());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("K 200 is padded to 256"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace abq::packed

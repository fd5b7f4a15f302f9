// Expected values: the CPU reference (kernels/reference/). The gemm/ kernels' own source runs on
// the CPU warp emulator (warp_emulator.h), so indexing, group folds, shuffles and epilogues are
// checked without a GPU: integer paths bit for bit after fp16/bf16 rounding, the weight-only GEMV
// by normalised MSE, the activation quantizer exactly. Outputs start as NaN (0xFFFF).
#include "warp_emulator.h"  // first: defines the CUDA built-ins the kernels use

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/gemm/act_quant.cuh"
#include "kernels/gemm/bitplane_gemm.cuh"
#include "kernels/gemm/int8_gemm.cuh"
#include "kernels/gemm/weight_only_gemv.cuh"
#include "kernels/launch/format_check.h"
#include "kernels/reference/act_quant_reference.h"
#include "kernels/reference/bitplane_pack.h"
#include "kernels/reference/sliced_pack.h"
#include "random_operands.h"

namespace abq::kernels {
namespace {

using emulation::Dim3;

struct Case {
  int64_t m, n, k;
  abq_weight_format wf;
  abq_act_format xf;
  abq_dtype dtype;
};

// Runs one path on the emulator; returns fp16/bf16 output bits [M][N].
std::vector<uint16_t> run(const Case& c, abq_path path, const reference::WeightCodes& w, const reference::ActCodes& x,
                          const std::vector<float>& bias) {
  const std::vector<uint32_t> wcodes = path == ABQ_PATH_BITPLANE ? reference::pack_bitplanes(w.codes, c.n, c.k, c.wf.bits)
                                                                 : reference::pack_sliced(w.codes, c.n, c.k, c.wf.bits);
  std::vector<uint32_t> xplanes;
  std::vector<uint8_t> x8;
  std::vector<uint16_t> x16;
  gemm::GemmParams p;
  if (c.xf.bits == 16) {
    for (float v : x.values) x16.push_back(reference::float_to_dtype(v, c.dtype));
    p.x = x16.data();
  } else if (path == ABQ_PATH_BITPLANE) {
    xplanes = reference::pack_bitplanes(x.codes, c.m, c.k, c.xf.bits);
    p.x = xplanes.data();
  } else {
    x8 = reference::pack_int8_containers(x.codes);
    p.x = x8.data();
  }
  std::vector<uint16_t> y(static_cast<size_t>(c.m * c.n), 0xFFFF);
  p.w = wcodes.data();
  p.x_scales = x.scales.empty() ? nullptr : x.scales.data();
  p.x_zeros = x.zeros.empty() ? nullptr : x.zeros.data();
  p.w_scales = w.scales.data();
  p.w_zeros = w.zeros.empty() ? nullptr : w.zeros.data();
  p.bias = bias.data();
  p.y = y.data();
  p.out_dtype = c.dtype;
  p.m = int(c.m);
  p.n = int(c.n);
  p.k = int(c.k);
  p.x_bits = c.xf.bits;
  p.w_bits = c.wf.bits;
  p.x_signed = c.xf.is_signed;
  p.w_signed = c.wf.is_signed;
  p.group_len = int(launch::group_length(c.k, c.wf.group_size));
  p.groups = int(launch::group_count(c.k, c.wf.group_size));
  EXPECT_EQ(launch::check_gemm_params(p, path), "");
  if (path == ABQ_PATH_BITPLANE) {
    const Dim3 grid{unsigned((c.n + gemm::kBitplaneTileN - 1) / gemm::kBitplaneTileN), unsigned((c.m + 7) / 8), 1};
    emulation::launch(grid, {gemm::kBitplaneWarps * 32, 1, 1}, [&] { gemm::bitplane_gemm_kernel(p); });
  } else {
    const tile::SlicedView view = tile::make_sliced_view(wcodes.data(), c.n, c.k, c.wf.bits, c.wf.is_signed);
    if (path == ABQ_PATH_INT8_UNPACK) {
      const Dim3 grid{unsigned((c.n + gemm::kInt8TileN - 1) / gemm::kInt8TileN), unsigned((c.m + 7) / 8), 1};
      emulation::launch(grid, {gemm::kInt8Warps * 32, 1, 1}, [&] { gemm::int8_gemm_kernel(p, view); });
    } else {
      const Dim3 grid{unsigned((c.n + gemm::kGemvWarps - 1) / gemm::kGemvWarps), unsigned((c.m + 7) / 8), 1};
      emulation::launch(grid, {gemm::kGemvWarps * 32, 1, 1}, [&] { gemm::weight_only_gemv_kernel(p, view); });
    }
  }
  return y;
}

// A spread of formats: every weight width once (W2* as 9), activation widths cycling, both signs,
// all group sizes, ragged M and N (not multiples of the tiles).
std::vector<Case> integer_cases() {
  std::vector<Case> cases;
  const int groups[3] = {0, 64, 128};
  int i = 0;
  for (int wb = 1; wb <= 9; ++wb)
    for (int sym = 0; sym < 2; ++sym) {
      if (sym && (wb < 2 || wb == 9)) continue;
      ++i;
      cases.push_back({int64_t(1 + 5 * (i % 3)), int64_t(8 + 24 * (i % 3)), int64_t(128 * (1 + i % 2)),
                       {wb == 9 ? 3 : wb, wb == 9 ? 5 : 0, sym, groups[i % 3]}, {2 + (i * 3) % 7, 0, (i / 2) % 2},
                       i % 2 ? ABQ_DTYPE_BF16 : ABQ_DTYPE_F16});
    }
  return cases;
}

void expect_exact(abq_path path) {
  std::mt19937 rng(path == ABQ_PATH_BITPLANE ? 10 : 20);
  for (const Case& c : integer_cases()) {
    const auto w = testing::random_weights(rng, c.n, c.k, c.wf);
    const auto x = testing::random_acts(rng, c.m, c.k, c.xf);
    std::vector<float> bias(c.n);
    for (auto& b : bias) b = std::uniform_real_distribution<float>(-1, 1)(rng);
    const auto ref = reference::gemm_reference(w, x, bias);
    const auto got = run(c, path, w, x, bias);
    for (size_t i = 0; i < ref.size(); ++i)
      ASSERT_EQ(got[i], reference::float_to_dtype(ref[i], c.dtype))
          << abq_path_name(path) << " " << testing::describe_case(c.m, c.n, c.k, c.wf, c.xf) << " at m=" << i / c.n
          << " n=" << i % c.n << ": reference " << ref[i] << ", got " << reference::dtype_to_float(got[i], c.dtype);
  }
}

TEST(KernelsEmulated, BitplaneGemmMatchesReferenceExactly) { expect_exact(ABQ_PATH_BITPLANE); }

TEST(KernelsEmulated, Int8GemmMatchesReferenceExactly) { expect_exact(ABQ_PATH_INT8_UNPACK); }

TEST(KernelsEmulated, WeightOnlyGemvMatchesReference) {
  std::mt19937 rng(30);
  int i = 0;
  for (int wb : {1, 2, 3, 4, 8, 9}) {
    ++i;
    const abq_dtype dtype = i % 2 ? ABQ_DTYPE_BF16 : ABQ_DTYPE_F16;
    const Case c{int64_t(1 + 4 * (i % 3)), 12, 256,
                 {wb == 9 ? 3 : wb, wb == 9 ? 5 : 0, wb >= 2 && wb != 9 && i % 2, (i % 3) * 64}, {16, 0, 0}, dtype};
    const auto w = testing::random_weights(rng, c.n, c.k, c.wf);
    const auto x = testing::random_acts(rng, c.m, c.k, c.xf, dtype);
    const std::vector<float> bias(c.n, 0.5f);
    const auto ref = reference::gemm_reference(w, x, bias);
    const auto got = run(c, ABQ_PATH_WEIGHT_ONLY, w, x, bias);
    double err = 0, norm = 0;
    for (size_t j = 0; j < ref.size(); ++j) {
      const double d = reference::dtype_to_float(got[j], dtype) - ref[j];
      ASSERT_FALSE(std::isnan(d)) << testing::describe_case(c.m, c.n, c.k, c.wf, c.xf) << " at " << j;
      err += d * d;
      norm += double(ref[j]) * ref[j];
    }
    EXPECT_LT(err / norm, dtype == ABQ_DTYPE_BF16 ? 1e-4 : 2e-6) << testing::describe_case(c.m, c.n, c.k, c.wf, c.xf);
  }
}

TEST(KernelsEmulated, ActQuantMatchesReferenceExactly) {
  std::mt19937 rng(40);
  std::normal_distribution<float> v(0.0f, 2.0f);
  for (bool planes : {false, true})
    for (int bits : {2, 3, 8})
      for (int sym : {0, 1}) {
        const int64_t m = 3, k = 128;
        const abq_dtype dtype = sym ? ABQ_DTYPE_BF16 : ABQ_DTYPE_F16;
        std::vector<uint16_t> xh(m * k);
        std::vector<float> xf(m * k);
        for (int64_t i = 0; i < m * k; ++i) {
          xh[i] = reference::float_to_dtype(v(rng) + (sym ? 0.0f : 0.9f), dtype);
          xf[i] = reference::dtype_to_float(xh[i], dtype);
        }
        const auto ref = reference::quantize_activations(xf, m, k, {bits, 0, sym});
        std::vector<uint32_t> codes(planes ? bits * m * k / 32 : m * k / 4, 0xABABABABu);
        std::vector<float> scales(m, NAN);
        std::vector<int32_t> zeros(m, -999);
        gemm::ActQuantParams p;
        p.x = xh.data();
        p.x_dtype = dtype;
        p.m = int(m);
        p.k = int(k);
        p.bits = bits;
        p.levels = 1 << bits;
        p.is_signed = sym;
        p.bitplanes = planes;
        p.codes = codes.data();
        p.scales = scales.data();
        p.zeros = sym ? nullptr : zeros.data();
        emulation::launch({unsigned(m), 1, 1}, {gemm::kActQuantThreads, 1, 1}, [&] { gemm::act_quant_kernel(p); });
        EXPECT_EQ(scales, ref.scales);
        if (!sym) {
          EXPECT_EQ(zeros, ref.zeros);
        }
        if (planes) {
          EXPECT_EQ(codes, reference::pack_bitplanes(ref.codes, m, k, bits)) << bits << sym;
        } else {
          const auto* bytes = reinterpret_cast<const uint8_t*>(codes.data());
          EXPECT_EQ(std::vector<uint8_t>(bytes, bytes + m * k), reference::pack_int8_containers(ref.codes)) << bits << sym;
        }
      }
}

}  // namespace
}  // namespace abq::kernels

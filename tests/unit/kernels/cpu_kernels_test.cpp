// Expected values: the CPU reference (kernels/reference/). The CPU backend's integer paths
// (bitplane, int8_unpack) must equal gemm_reference bit for bit (fp32 outputs, and fp16/bf16 after
// the reference's rounding) on every ISA this machine has, forced one after another, and hence
// equal the scalar path; the weight-only path sums in fp32 in another order and is held to a
// normalised-MSE tolerance against the reference and the scalar path; the fused quantizer must
// reproduce act_quant_reference codes, scales and zero-points exactly. Outputs are poisoned with
// NaN before every run. Cases: weight bits 1..8 and W2* (bits 3, levels 5), signed and unsigned,
// x activation bits 2..8 signed and unsigned, groups K / 64 / 128, M = 1, 3, 17, 64, ragged N.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/reference/act_quant_reference.h"
#include "kernels/reference/bitplane_pack.h"
#include "kernels/reference/half.h"
#include "kernels/reference/sliced_pack.h"
#include "random_operands.h"

namespace abq::kernels {
namespace {

using reference::ActCodes;
using reference::WeightCodes;

std::vector<abq_cpu_isa> available_isas() {
  std::vector<abq_cpu_isa> out;
  for (abq_cpu_isa isa : {ABQ_CPU_ISA_SCALAR, ABQ_CPU_ISA_AVX2, ABQ_CPU_ISA_AVXVNNI, ABQ_CPU_ISA_AVX512})
    if (abq_cpu_force_isa(isa) == ABQ_OK) out.push_back(isa);
  EXPECT_EQ(abq_cpu_force_isa(ABQ_CPU_ISA_AUTO), ABQ_OK);
  return out;
}

// Restores the automatic ISA and the thread count after each test.
class CpuKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    isas_ = available_isas();
    threads_ = abq_cpu_threads();
  }
  void TearDown() override {
    abq_cpu_force_isa(ABQ_CPU_ISA_AUTO);
    abq_cpu_set_threads(threads_);
  }
  std::vector<abq_cpu_isa> isas_;
  int threads_ = 1;
};

struct Case {
  int64_t m, n, k;
  abq_weight_format wf;
  abq_act_format xf;
  abq_dtype dtype;
};

std::string name(const Case& c) { return testing::describe_case(c.m, c.n, c.k, c.wf, c.xf); }

// Packed operands of one case for `path`, and the call that runs it; outputs as fp32 values.
struct Operands {
  std::vector<uint32_t> wcodes, xplanes;
  std::vector<uint8_t> x8;
  std::vector<uint16_t> x16;
  std::vector<float> x32;
};

Operands pack(const Case& c, abq_path path, const WeightCodes& w, const ActCodes& x) {
  Operands o;
  o.wcodes = path == ABQ_PATH_BITPLANE ? reference::pack_bitplanes(w.codes, c.n, c.k, c.wf.bits)
                                       : reference::pack_sliced(w.codes, c.n, c.k, c.wf.bits);
  if (c.xf.bits == 16) {
    if (c.dtype == ABQ_DTYPE_F32)
      o.x32 = x.values;
    else
      for (float v : x.values) o.x16.push_back(reference::float_to_dtype(v, c.dtype));
  } else if (path == ABQ_PATH_BITPLANE) {
    o.xplanes = reference::pack_bitplanes(x.codes, c.m, c.k, c.xf.bits);
  } else {
    o.x8 = reference::pack_int8_containers(x.codes);
  }
  return o;
}

std::vector<float> run(const Case& c, abq_path path, const WeightCodes& w, const ActCodes& x, const Operands& o,
                       const std::vector<float>& bias) {
  abq_weights aw{path == ABQ_PATH_BITPLANE ? ABQ_PATH_BITPLANE : ABQ_PATH_INT8_UNPACK,
                 c.wf, int(c.n), int(c.k), o.wcodes.data(), w.scales.data(), w.zeros.empty() ? nullptr : w.zeros.data()};
  const void* data = c.xf.bits == 16 ? (c.dtype == ABQ_DTYPE_F32 ? static_cast<const void*>(o.x32.data()) : o.x16.data())
                     : path == ABQ_PATH_BITPLANE ? static_cast<const void*>(o.xplanes.data())
                                                 : o.x8.data();
  abq_activations ax{c.xf, int(c.m), int(c.k), data, x.scales.empty() ? nullptr : x.scales.data(),
                     x.zeros.empty() ? nullptr : x.zeros.data()};
  const size_t count = static_cast<size_t>(c.m * c.n);
  std::vector<float> y32(count, std::nanf(""));
  std::vector<uint16_t> y16(count, 0xFFFF);
  void* y = c.dtype == ABQ_DTYPE_F32 ? static_cast<void*>(y32.data()) : y16.data();
  abq_gemm_args args{&aw, &ax, bias.empty() ? nullptr : bias.data(), y, c.dtype, path, nullptr};
  EXPECT_EQ(abq_cpu_gemm(&args), ABQ_OK) << abq_last_error();
  if (c.dtype != ABQ_DTYPE_F32)
    for (size_t i = 0; i < count; ++i) y32[i] = reference::dtype_to_float(y16[i], c.dtype);
  return y32;
}

float rounded(float v, abq_dtype d) { return d == ABQ_DTYPE_F32 ? v : reference::dtype_to_float(reference::float_to_dtype(v, d), d); }

bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

// Every weight format (bits 1..8 unsigned, 2..8 signed, W2*) × activation format (2..8, both
// signs) × group, with shapes, output dtypes and thread counts cycling through the case index.
std::vector<Case> integer_cases() {
  std::vector<Case> cases;
  const int groups[3] = {0, 64, 128};
  const int64_t ms[4] = {1, 3, 17, 64}, ns[3] = {37, 16, 5}, ks[4] = {128, 384, 256, 640};
  const abq_dtype dtypes[3] = {ABQ_DTYPE_F32, ABQ_DTYPE_F16, ABQ_DTYPE_BF16};
  int i = 0;
  for (int wb = 1; wb <= 9; ++wb)
    for (int wsym = 0; wsym < 2; ++wsym) {
      if (wsym && (wb < 2 || wb == 9)) continue;
      for (int xb = 2; xb <= 8; ++xb)
        for (int xsym = 0; xsym < 2; ++xsym)
          for (int g : groups) {
            ++i;
            const int64_t m = ms[i % 4], k = m == 64 ? 128 : ks[(i / 4) % 4];
            cases.push_back({m, ns[i % 3], k, {wb == 9 ? 3 : wb, wb == 9 ? 5 : 0, wsym, g}, {xb, 0, xsym}, dtypes[i % 3]});
          }
    }
  return cases;
}

TEST_F(CpuKernels, IntegerPathsMatchReferenceExactlyOnEveryIsa) {
  std::mt19937 rng(500);
  int checked = 0;
  for (const Case& c : integer_cases()) {
    const WeightCodes w = testing::random_weights(rng, c.n, c.k, c.wf);
    const ActCodes x = testing::random_acts(rng, c.m, c.k, c.xf);
    std::vector<float> bias;
    if (checked % 2 == 0) {
      bias.resize(c.n);
      for (auto& b : bias) b = std::uniform_real_distribution<float>(-1, 1)(rng);
    }
    const std::vector<float> ref = reference::gemm_reference(w, x, bias);
    for (abq_path path : {ABQ_PATH_BITPLANE, ABQ_PATH_INT8_UNPACK}) {
      const Operands o = pack(c, path, w, x);
      for (abq_cpu_isa isa : isas_) {
        ASSERT_EQ(abq_cpu_force_isa(isa), ABQ_OK);
        const std::vector<float> got = run(c, path, w, x, o, bias);
        for (size_t i = 0; i < ref.size(); ++i)
          ASSERT_TRUE(same_bits(got[i], rounded(ref[i], c.dtype)))
              << abq_cpu_isa_name(isa) << " " << abq_path_name(path) << " " << name(c) << " dtype " << c.dtype
              << " at m=" << i / c.n << " n=" << i % c.n << ": reference " << ref[i] << ", got " << got[i];
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 2 * 672);  // 16 weight × 14 activation formats × 3 groups, both paths
}

// Zero-points far outside the code range make |I| exceed int32, so the kernels must take their
// double fold; still exact against the reference while |z| < 2^20.
TEST_F(CpuKernels, LargeZeroPointsStayExact) {
  std::mt19937 rng(550);
  int i = 0;
  for (int group : {0, 64, 128})
    for (int xsym : {0, 1}) {
      ++i;
      const Case c{3 + 14 * (i % 2), 21, 384, {4, 0, 0, group}, {8, 0, xsym}, ABQ_DTYPE_F32};
      WeightCodes w = testing::random_weights(rng, c.n, c.k, c.wf);
      ActCodes x = testing::random_acts(rng, c.m, c.k, c.xf);
      for (auto& z : w.zeros) z = std::uniform_int_distribution<int>(-600000, 600000)(rng);
      for (auto& z : x.zeros) z = std::uniform_int_distribution<int>(-9000, 9000)(rng);
      const std::vector<float> ref = reference::gemm_reference(w, x, {});
      for (abq_path path : {ABQ_PATH_BITPLANE, ABQ_PATH_INT8_UNPACK}) {
        const Operands o = pack(c, path, w, x);
        for (abq_cpu_isa isa : isas_) {
          ASSERT_EQ(abq_cpu_force_isa(isa), ABQ_OK);
          const std::vector<float> got = run(c, path, w, x, o, {});
          for (size_t k = 0; k < ref.size(); ++k)
            ASSERT_TRUE(same_bits(got[k], ref[k])) << abq_cpu_isa_name(isa) << " " << abq_path_name(path) << " "
                                                   << name(c) << " at " << k << ": " << got[k] << " vs " << ref[k];
        }
      }
    }
}

double normalised_mse(const std::vector<float>& got, const std::vector<float>& want) {
  double err = 0, norm = 0;
  for (size_t j = 0; j < want.size(); ++j) {
    const double d = double(got[j]) - want[j];
    err += d * d;
    norm += double(want[j]) * want[j];
  }
  return err / norm;
}

TEST_F(CpuKernels, WeightOnlyMatchesReferenceWithinToleranceOnEveryIsa) {
  std::mt19937 rng(600);
  const int64_t ms[4] = {1, 3, 17, 64};
  int i = 0;
  for (int wb = 1; wb <= 9; ++wb)
    for (int wsym = 0; wsym < 2; ++wsym)
      for (int group : {0, 64, 128})
        for (abq_dtype dtype : {ABQ_DTYPE_F32, ABQ_DTYPE_F16, ABQ_DTYPE_BF16}) {
          if (wsym && (wb < 2 || wb == 9)) continue;
          ++i;
          const int64_t m = ms[i % 4];
          const Case c{m, 19 + 8 * (i % 3), m == 64 ? 128 : 128 * (1 + i % 5), {wb == 9 ? 3 : wb, wb == 9 ? 5 : 0, wsym, group},
                       {16, 0, 0}, dtype};
          const WeightCodes w = testing::random_weights(rng, c.n, c.k, c.wf);
          const ActCodes x = testing::random_acts(rng, c.m, c.k, c.xf, dtype == ABQ_DTYPE_F32 ? ABQ_DTYPE_F16 : dtype);
          std::vector<float> bias(c.n, 0.25f);
          const std::vector<float> ref = reference::gemm_reference(w, x, bias);
          const Operands o = pack(c, ABQ_PATH_WEIGHT_ONLY, w, x);
          // Output rounding alone gives ~(2^-11)^2 (fp16) or (2^-8)^2 (bf16) relative MSE; fp32
          // sums of ≤ 640 terms stay near (2^-24)^2 · K.
          const double tol = dtype == ABQ_DTYPE_BF16 ? 1e-4 : dtype == ABQ_DTYPE_F16 ? 2e-6 : 1e-10;
          std::vector<float> scalar;
          for (abq_cpu_isa isa : isas_) {
            ASSERT_EQ(abq_cpu_force_isa(isa), ABQ_OK);
            const std::vector<float> got = run(c, ABQ_PATH_WEIGHT_ONLY, w, x, o, bias);
            for (size_t j = 0; j < got.size(); ++j) ASSERT_FALSE(std::isnan(got[j])) << name(c) << " at " << j;
            EXPECT_LT(normalised_mse(got, ref), tol) << abq_cpu_isa_name(isa) << " " << name(c) << " dtype " << dtype;
            if (isa == ABQ_CPU_ISA_SCALAR) scalar = got;
            EXPECT_LT(normalised_mse(got, scalar), tol) << abq_cpu_isa_name(isa) << " vs scalar " << name(c);
          }
        }
}

// Decode rows with more groups than AVX-512 lanes (18 and 32 groups of 64: one full vector step
// of the zero-point term plus a ragged one, or two full ones), asymmetric and symmetric weights.
TEST_F(CpuKernels, WeightOnlyDecodeOverManyGroupsMatchesReference) {
  std::mt19937 rng(650);
  for (int64_t k : {64 * 18, 64 * 32})
    for (int wb : {2, 3, 4})
      for (int wsym = 0; wsym < 2; ++wsym) {
        const Case c{1, 21, k, {wb, 0, wsym, 64}, {16, 0, 0}, ABQ_DTYPE_F32};
        const WeightCodes w = testing::random_weights(rng, c.n, c.k, c.wf);
        const ActCodes x = testing::random_acts(rng, c.m, c.k, c.xf, ABQ_DTYPE_F16);
        std::vector<float> bias(c.n, 0.25f);
        const std::vector<float> ref = reference::gemm_reference(w, x, bias);
        const Operands o = pack(c, ABQ_PATH_WEIGHT_ONLY, w, x);
        for (abq_cpu_isa isa : isas_) {
          ASSERT_EQ(abq_cpu_force_isa(isa), ABQ_OK);
          const std::vector<float> got = run(c, ABQ_PATH_WEIGHT_ONLY, w, x, o, bias);
          EXPECT_LT(normalised_mse(got, ref), 1e-10) << abq_cpu_isa_name(isa) << " " << name(c);
        }
      }
}

TEST_F(CpuKernels, ActQuantMatchesReferenceExactlyOnEveryIsa) {
  std::mt19937 rng(700);
  std::normal_distribution<float> v(0.0f, 2.0f);
  int i = 0;
  for (abq_path layout : {ABQ_PATH_INT8_UNPACK, ABQ_PATH_BITPLANE})
    for (int bits = 2; bits <= 8; ++bits)
      for (int sym : {0, 1})
        for (abq_dtype dtype : {ABQ_DTYPE_F32, ABQ_DTYPE_F16, ABQ_DTYPE_BF16}) {
          ++i;
          const int64_t m = 1 + 8 * (i % 3), k = layout == ABQ_PATH_BITPLANE ? 128 * (1 + i % 3) : 100 + 28 * (i % 5);
          std::vector<uint16_t> xh(m * k);
          std::vector<float> xf(m * k);
          for (int64_t j = 0; j < m * k; ++j) {
            const float raw = v(rng) + (sym ? 0.0f : 0.7f + 0.01f * static_cast<float>(j / k));
            xh[j] = reference::float_to_dtype(raw, dtype == ABQ_DTYPE_F32 ? ABQ_DTYPE_F16 : dtype);
            xf[j] = dtype == ABQ_DTYPE_F32 ? raw : reference::dtype_to_float(xh[j], dtype);
          }
          const abq_act_format fmt{bits, 0, sym};
          const ActCodes ref = reference::quantize_activations(xf, m, k, fmt);
          const void* input = dtype == ABQ_DTYPE_F32 ? static_cast<const void*>(xf.data()) : xh.data();
          for (abq_cpu_isa isa : isas_) {
            ASSERT_EQ(abq_cpu_force_isa(isa), ABQ_OK);
            const size_t words = layout == ABQ_PATH_BITPLANE ? size_t(bits * m * k / 32) : size_t((m * k + 3) / 4);
            std::vector<uint32_t> codes(words, 0xABABABABu);
            std::vector<float> scales(m, std::nanf(""));
            std::vector<int32_t> zeros(m, -777);
            ASSERT_EQ(abq_cpu_quantize_activations(input, dtype, int(m), int(k), fmt, layout, codes.data(), scales.data(),
                                                   zeros.data()),
                      ABQ_OK)
                << abq_last_error();
            const std::string what = std::string(abq_cpu_isa_name(isa)) + " " + abq_path_name(layout) + " bits=" +
                                     std::to_string(bits) + " signed=" + std::to_string(sym) + " dtype " +
                                     std::to_string(dtype) + " K=" + std::to_string(k);
            EXPECT_EQ(scales, ref.scales) << what;
            if (!sym) {
              EXPECT_EQ(zeros, ref.zeros) << what;
            }
            if (layout == ABQ_PATH_BITPLANE) {
              EXPECT_EQ(codes, reference::pack_bitplanes(ref.codes, m, k, bits)) << what;
            } else {
              const auto* bytes = reinterpret_cast<const uint8_t*>(codes.data());
              EXPECT_EQ(std::vector<uint8_t>(bytes, bytes + m * k), reference::pack_int8_containers(ref.codes)) << what;
            }
          }
        }
}

// Problems big enough to be split over threads: 1, 2 and 3 threads give the reference bit for bit.
TEST_F(CpuKernels, ThreadCountsGiveIdenticalResults) {
  std::mt19937 rng(900);
  for (int wb : {2, 4}) {
    const Case c{40, 100, 1024, {wb, 0, 0, 128}, {8, 0, 0}, ABQ_DTYPE_F32};
    const WeightCodes w = testing::random_weights(rng, c.n, c.k, c.wf);
    const ActCodes x = testing::random_acts(rng, c.m, c.k, c.xf);
    const std::vector<float> ref = reference::gemm_reference(w, x, {});
    for (abq_path path : {ABQ_PATH_BITPLANE, ABQ_PATH_INT8_UNPACK}) {
      const Operands o = pack(c, path, w, x);
      for (int threads : {1, 2, 3}) {
        abq_cpu_set_threads(threads);
        const std::vector<float> got = run(c, path, w, x, o, {});
        for (size_t i = 0; i < ref.size(); ++i)
          ASSERT_TRUE(same_bits(got[i], ref[i])) << threads << " threads " << abq_path_name(path) << " at " << i;
      }
    }
    const Case a16{12, 100, 1024, {wb, 0, 0, 128}, {16, 0, 0}, ABQ_DTYPE_F32};
    const ActCodes xv = testing::random_acts(rng, a16.m, a16.k, a16.xf);
    const Operands o = pack(a16, ABQ_PATH_WEIGHT_ONLY, w, xv);
    abq_cpu_set_threads(1);
    const std::vector<float> one = run(a16, ABQ_PATH_WEIGHT_ONLY, w, xv, o, {});
    abq_cpu_set_threads(2);
    EXPECT_EQ(run(a16, ABQ_PATH_WEIGHT_ONLY, w, xv, o, {}), one);  // same per-channel summation order
  }
}

// Quantizer then GEMM, as a packed linear runs them: equal to the reference of the same codes.
TEST_F(CpuKernels, QuantizeThenGemmMatchesReference) {
  std::mt19937 rng(800);
  const int64_t m = 5, n = 33, k = 256;
  std::vector<float> xf(m * k);
  for (auto& e : xf) e = std::normal_distribution<float>(0.3f, 1.0f)(rng);
  const abq_act_format xfmt{8, 0, 0};
  const abq_weight_format wfmt{4, 0, 0, 128};
  const WeightCodes w = testing::random_weights(rng, n, k, wfmt);
  const ActCodes ref_x = reference::quantize_activations(xf, m, k, xfmt);
  const std::vector<float> ref = reference::gemm_reference(w, ref_x, {});
  std::vector<uint8_t> codes(m * k);
  std::vector<float> scales(m);
  std::vector<int32_t> zeros(m);
  ASSERT_EQ(abq_cpu_quantize_activations(xf.data(), ABQ_DTYPE_F32, int(m), int(k), xfmt, ABQ_PATH_INT8_UNPACK,
                                         codes.data(), scales.data(), zeros.data()),
            ABQ_OK);
  const std::vector<uint32_t> wcodes = reference::pack_sliced(w.codes, n, k, 4);
  abq_weights aw{ABQ_PATH_INT8_UNPACK, wfmt, int(n), int(k), wcodes.data(), w.scales.data(), w.zeros.data()};
  abq_activations ax{xfmt, int(m), int(k), codes.data(), scales.data(), zeros.data()};
  std::vector<float> y(m * n);
  abq_gemm_args args{&aw, &ax, nullptr, y.data(), ABQ_DTYPE_F32, ABQ_PATH_AUTO, nullptr};
  ASSERT_EQ(abq_cpu_gemm(&args), ABQ_OK) << abq_last_error();
  for (size_t i = 0; i < y.size(); ++i) ASSERT_TRUE(same_bits(y[i], ref[i])) << i << ": " << y[i] << " vs " << ref[i];
}

TEST_F(CpuKernels, RejectsBadRequestsWithClearErrors) {
  const std::vector<uint32_t> words(64 * 256 / 8, 0);
  const std::vector<float> scales(64 * 2, 1.0f), xs(1, 1.0f);
  const std::vector<int32_t> zeros(64 * 2, 0), xz(1, 0);
  const std::vector<uint8_t> x8(256, 0);
  float y[64];
  abq_weights w{ABQ_PATH_INT8_UNPACK, {4, 0, 0, 128}, 64, 192, words.data(), scales.data(), zeros.data()};
  abq_activations x{{8, 0, 0}, 1, 192, x8.data(), xs.data(), xz.data()};
  abq_gemm_args args{&w, &x, nullptr, y, ABQ_DTYPE_F32, ABQ_PATH_AUTO, nullptr};
  EXPECT_EQ(abq_cpu_gemm(&args), ABQ_ERR_INVALID);
  EXPECT_EQ(std::string(abq_last_error()),
            "abq_cpu_gemm: K must be a positive multiple of 128 (one b1 MMA step), got K=192");
  w.k = x.k = 256;
  args.force_path = ABQ_PATH_BITPLANE;
  EXPECT_EQ(abq_cpu_gemm(&args), ABQ_ERR_INVALID);
  EXPECT_EQ(std::string(abq_last_error()),
            "abq_cpu_gemm: path bitplane cannot read weights packed in the sliced layout; repack them or force a "
            "matching path");
  args.force_path = ABQ_PATH_AUTO;
  int stream = 0;
  args.stream = &stream;
  EXPECT_EQ(abq_cpu_gemm(&args), ABQ_ERR_INVALID);
  EXPECT_EQ(std::string(abq_last_error()), "abq_cpu_gemm: stream must be NULL on the CPU (calls are synchronous)");
  args.stream = nullptr;
  x.zeros = nullptr;
  EXPECT_EQ(abq_cpu_gemm(&args), ABQ_ERR_INVALID);
  EXPECT_EQ(std::string(abq_last_error()),
            "abq_cpu_gemm: activation zero-points must be given iff the activations are unsigned");
  x.zeros = xz.data();
  EXPECT_EQ(abq_cpu_gemm(&args), ABQ_OK) << abq_last_error();

  float q_scale = 0;
  EXPECT_EQ(abq_cpu_quantize_activations(scales.data(), ABQ_DTYPE_F32, 1, 100, {4, 0, 1}, ABQ_PATH_BITPLANE,
                                         std::vector<uint32_t>(16).data(), &q_scale, nullptr),
            ABQ_ERR_INVALID);
  EXPECT_EQ(std::string(abq_last_error()), "abq_cpu_quantize_activations: bit-planes need K % 32 == 0, got K=100");
  EXPECT_EQ(abq_cpu_force_isa(static_cast<abq_cpu_isa>(9)), ABQ_ERR_INVALID);
  EXPECT_EQ(std::string(abq_last_error()), "abq_cpu_force_isa: unknown ISA 9");
}

TEST_F(CpuKernels, ReportsIsasAndChoosesPaths) {
  ASSERT_FALSE(isas_.empty());
  EXPECT_EQ(isas_.front(), ABQ_CPU_ISA_SCALAR);
  EXPECT_EQ(isas_.back(), abq_cpu_best_isa());
  for (abq_cpu_isa isa : {ABQ_CPU_ISA_AVX2, ABQ_CPU_ISA_AVXVNNI, ABQ_CPU_ISA_AVX512}) {
    const bool have = std::find(isas_.begin(), isas_.end(), isa) != isas_.end();
    if (!have) {
      EXPECT_EQ(abq_cpu_force_isa(isa), ABQ_ERR_UNSUPPORTED);
      EXPECT_NE(std::string(abq_last_error()).find("does not support"), std::string::npos);
    }
  }
  EXPECT_EQ(abq_cpu_choose_path(1, 64, 256, {4, 0, 0, 128}, {16, 0, 0}), ABQ_PATH_WEIGHT_ONLY);
  EXPECT_EQ(abq_cpu_choose_path(512, 64, 256, {4, 0, 0, 128}, {8, 0, 0}), ABQ_PATH_INT8_UNPACK);
  EXPECT_EQ(abq_cpu_choose_path(512, 64, 250, {4, 0, 0, 128}, {8, 0, 0}), ABQ_PATH_AUTO);
}

// The tuning table decides where it has the bits: the nearest measured problem in log M, N, K.
TEST_F(CpuKernels, ChoosePathFollowsTheTuningTable) {
  const std::string path = ::testing::TempDir() + "/cpu_tuning_test.txt";
  {
    std::ofstream out(path);
    out << "# abq cpu tuning v1\n2 2 1 576 640 10.0 20.0\n2 2 512 576 640 900.0 800.0\n";
  }
  ASSERT_EQ(abq_cpu_load_tuning(path.c_str()), ABQ_OK) << abq_last_error();
  const abq_weight_format w2{2, 0, 0, 0};
  EXPECT_EQ(abq_cpu_choose_path(1, 600, 640, w2, {2, 0, 0}), ABQ_PATH_BITPLANE);
  EXPECT_EQ(abq_cpu_choose_path(3, 600, 640, w2, {2, 0, 0}), ABQ_PATH_BITPLANE);  // nearer M = 1
  EXPECT_EQ(abq_cpu_choose_path(64, 600, 640, w2, {2, 0, 0}), ABQ_PATH_INT8_UNPACK);
  // No entry for w2a8: the instruction-count model (int8 for 512 tokens).
  EXPECT_EQ(abq_cpu_choose_path(512, 600, 640, w2, {8, 0, 0}), ABQ_PATH_INT8_UNPACK);
  {
    std::ofstream out(path);
    out << "# abq cpu tuning v1\n2 2 1 576 640 10.0\n";
  }
  EXPECT_EQ(abq_cpu_load_tuning(path.c_str()), ABQ_ERR_INVALID);
  EXPECT_EQ(std::string(abq_last_error()),
            "abq_cpu_load_tuning: " + path +
                ":2: expected 7 fields <w_bits> <x_bits> <M> <N> <K> <bitplane_us> <int8_unpack_us>, got \"2 2 1 576 "
                "640 10.0\"");
  ASSERT_EQ(abq_cpu_load_tuning(nullptr), ABQ_OK);
}

}  // namespace
}  // namespace abq::kernels

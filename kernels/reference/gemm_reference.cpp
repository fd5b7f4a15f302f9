// Exact CPU reference of the WpAq GEMM (see gemm_reference.h for the formula and epilogue order).
#include "kernels/reference/gemm_reference.h"

#include <cmath>

#include "framework/core/error.h"
#include "kernels/launch/format_check.h"

namespace abq::kernels::reference {

using launch::effective_levels;
using launch::group_count;
using launch::group_length;

namespace {

void require(const std::string& problem, const char* what) {
  if (!problem.empty()) throw Error(cat(what, ": ", problem));
}

// Range of a stored code: [0, levels) unsigned, [−2^(b−1), 2^(b−1)) signed.
void code_range(int bits, int levels, bool is_signed, int32_t& lo, int32_t& hi) {
  if (is_signed) {
    lo = -(1 << (bits - 1));
    hi = (1 << (bits - 1)) - 1;
  } else {
    lo = 0;
    hi = effective_levels(bits, levels) - 1;
  }
}

}  // namespace

void validate(const WeightCodes& w) {
  require(launch::check_weight_format(w.fmt), "weights");
  if (w.n < 1 || w.k < 1) throw Error(cat("weights: N and K must be >= 1, got N=", w.n, " K=", w.k));
  if (w.fmt.group_size != 0 && w.k % w.fmt.group_size != 0)
    throw Error(cat("weights: K=", w.k, " is not a multiple of group_size ", w.fmt.group_size));
  const int64_t groups = group_count(w.k, w.fmt.group_size);
  if (static_cast<int64_t>(w.codes.size()) != w.n * w.k)
    throw Error(cat("weights: expected N*K = ", w.n * w.k, " codes, got ", w.codes.size()));
  if (static_cast<int64_t>(w.scales.size()) != w.n * groups)
    throw Error(cat("weights: expected N*G = ", w.n * groups, " scales, got ", w.scales.size()));
  const int64_t want_zeros = w.fmt.is_signed ? 0 : w.n * groups;
  if (static_cast<int64_t>(w.zeros.size()) != want_zeros)
    throw Error(cat("weights: expected ", want_zeros, " zero-points (", w.fmt.is_signed ? "signed" : "unsigned",
                    " codes), got ", w.zeros.size()));
  int32_t lo, hi;
  code_range(w.fmt.bits, w.fmt.levels, w.fmt.is_signed, lo, hi);
  for (size_t i = 0; i < w.codes.size(); ++i)
    if (w.codes[i] < lo || w.codes[i] > hi)
      throw Error(cat("weights: code ", w.codes[i], " at [", i / w.k, ",", i % w.k, "] is outside [", lo, ", ", hi,
                      "] of the ", w.fmt.bits, "-bit format"));
}

void validate(const ActCodes& x) {
  require(launch::check_act_format(x.fmt), "activations");
  if (x.m < 1 || x.k < 1) throw Error(cat("activations: M and K must be >= 1, got M=", x.m, " K=", x.k));
  if (x.fmt.bits == 16) {
    if (static_cast<int64_t>(x.values.size()) != x.m * x.k)
      throw Error(cat("activations: expected M*K = ", x.m * x.k, " values, got ", x.values.size()));
    return;
  }
  if (static_cast<int64_t>(x.codes.size()) != x.m * x.k)
    throw Error(cat("activations: expected M*K = ", x.m * x.k, " codes, got ", x.codes.size()));
  if (static_cast<int64_t>(x.scales.size()) != x.m)
    throw Error(cat("activations: expected M = ", x.m, " scales, got ", x.scales.size()));
  const int64_t want_zeros = x.fmt.is_signed ? 0 : x.m;
  if (static_cast<int64_t>(x.zeros.size()) != want_zeros)
    throw Error(cat("activations: expected ", want_zeros, " zero-points, got ", x.zeros.size()));
  int32_t lo, hi;
  code_range(x.fmt.bits, x.fmt.levels, x.fmt.is_signed, lo, hi);
  for (size_t i = 0; i < x.codes.size(); ++i)
    if (x.codes[i] < lo || x.codes[i] > hi)
      throw Error(cat("activations: code ", x.codes[i], " at [", i / x.k, ",", i % x.k, "] is outside [", lo, ", ",
                      hi, "]"));
}

namespace {

void validate_pair(const WeightCodes& w, const ActCodes& x, bool need_codes) {
  validate(w);
  validate(x);
  if (w.k != x.k) throw Error(cat("weights have K=", w.k, " but activations have K=", x.k));
  if (need_codes && x.fmt.bits == 16)
    throw Error("integer group sums need quantized activations (bits <= 8), got bits=16");
}

}  // namespace

std::vector<int64_t> integer_group_sums(const WeightCodes& w, const ActCodes& x) {
  validate_pair(w, x, true);
  const int64_t M = x.m, N = w.n, K = w.k;
  const int64_t G = group_count(K, w.fmt.group_size), L = group_length(K, w.fmt.group_size);
  std::vector<int64_t> out(static_cast<size_t>(M * N * G));
  for (int64_t m = 0; m < M; ++m) {
    const int32_t* xr = &x.codes[m * K];
    const int64_t zx = x.zeros.empty() ? 0 : x.zeros[m];
    for (int64_t n = 0; n < N; ++n) {
      const int32_t* wr = &w.codes[n * K];
      for (int64_t g = 0; g < G; ++g) {
        int64_t d = 0, sx = 0, sw = 0;
        for (int64_t k = g * L; k < (g + 1) * L; ++k) {
          d += int64_t(xr[k]) * wr[k];
          sx += xr[k];
          sw += wr[k];
        }
        const int64_t zw = w.zeros.empty() ? 0 : w.zeros[n * G + g];
        out[(m * N + n) * G + g] = d - zw * sx - zx * sw + L * zx * zw;
      }
    }
  }
  return out;
}

std::vector<int64_t> integer_group_sums_direct(const WeightCodes& w, const ActCodes& x) {
  validate_pair(w, x, true);
  const int64_t M = x.m, N = w.n, K = w.k;
  const int64_t G = group_count(K, w.fmt.group_size), L = group_length(K, w.fmt.group_size);
  std::vector<int64_t> out(static_cast<size_t>(M * N * G));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) {
        const int64_t xv = int64_t(x.codes[m * K + k]) - (x.zeros.empty() ? 0 : x.zeros[m]);
        const int64_t wv = int64_t(w.codes[n * K + k]) - (w.zeros.empty() ? 0 : w.zeros[n * G + k / L]);
        out[(m * N + n) * G + k / L] += xv * wv;
      }
  return out;
}

std::vector<float> epilogue(const std::vector<int64_t>& sums, const WeightCodes& w, const ActCodes& x,
                            const std::vector<float>& bias) {
  const int64_t M = x.m, N = w.n, G = group_count(w.k, w.fmt.group_size);
  ABQ_ASSERT(static_cast<int64_t>(sums.size()) == M * N * G, "group sums have ", sums.size(), " entries");
  if (!bias.empty() && static_cast<int64_t>(bias.size()) != N)
    throw Error(cat("bias: expected N = ", N, " values, got ", bias.size()));
  std::vector<float> y(static_cast<size_t>(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float acc = 0.0f;
      for (int64_t g = 0; g < G; ++g)
        acc = std::fma(w.scales[n * G + g], static_cast<float>(sums[(m * N + n) * G + g]), acc);
      y[m * N + n] = std::fma(acc, x.scales[m], bias.empty() ? 0.0f : bias[n]);
    }
  return y;
}

std::vector<float> gemm_reference(const WeightCodes& w, const ActCodes& x, const std::vector<float>& bias) {
  if (x.fmt.bits <= 8) return epilogue(integer_group_sums(w, x), w, x, bias);
  // Weight-only: double accumulation per group of x·(wq − zw), then the same fp32 epilogue order.
  validate_pair(w, x, false);
  if (!bias.empty() && static_cast<int64_t>(bias.size()) != w.n)
    throw Error(cat("bias: expected N = ", w.n, " values, got ", bias.size()));
  const int64_t M = x.m, N = w.n, K = w.k;
  const int64_t G = group_count(K, w.fmt.group_size), L = group_length(K, w.fmt.group_size);
  std::vector<float> y(static_cast<size_t>(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float acc = 0.0f;
      for (int64_t g = 0; g < G; ++g) {
        const int64_t zw = w.zeros.empty() ? 0 : w.zeros[n * G + g];
        double s = 0.0;
        for (int64_t k = g * L; k < (g + 1) * L; ++k) s += double(x.values[m * K + k]) * double(w.codes[n * K + k] - zw);
        acc = std::fma(w.scales[n * G + g], static_cast<float>(s), acc);
      }
      y[m * N + n] = acc + (bias.empty() ? 0.0f : bias[n]);
    }
  return y;
}

std::vector<double> gemm_naive(const WeightCodes& w, const ActCodes& x, const std::vector<float>& bias) {
  validate_pair(w, x, false);
  const int64_t M = x.m, N = w.n, K = w.k;
  const int64_t G = group_count(K, w.fmt.group_size), L = group_length(K, w.fmt.group_size);
  std::vector<double> y(static_cast<size_t>(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = bias.empty() ? 0.0 : bias[n];
      for (int64_t k = 0; k < K; ++k) {
        const int64_t g = k / L;
        const double wv = (double(w.codes[n * K + k]) - (w.zeros.empty() ? 0.0 : w.zeros[n * G + g])) * w.scales[n * G + g];
        const double xv = x.fmt.bits == 16
                              ? double(x.values[m * K + k])
                              : (double(x.codes[m * K + k]) - (x.zeros.empty() ? 0.0 : x.zeros[m])) * x.scales[m];
        acc += xv * wv;
      }
      y[m * N + n] = acc;
    }
  return y;
}

}  // namespace abq::kernels::reference

// Random quantized operands for the kernel tests (seeded std::mt19937, so every failure replays).
#pragma once

#include <cstdint>
#include <random>
#include <sstream>
#include <string>

#include "kernels/kernels.h"
#include "kernels/launch/format_check.h"
#include "kernels/reference/gemm_reference.h"
#include "kernels/reference/half.h"

namespace abq::kernels::testing {

inline reference::WeightCodes random_weights(std::mt19937& rng, int64_t n, int64_t k, abq_weight_format fmt) {
  reference::WeightCodes w;
  w.fmt = fmt;
  w.n = n;
  w.k = k;
  const int levels = launch::effective_levels(fmt.bits, fmt.levels);
  const int lo = fmt.is_signed ? -(1 << (fmt.bits - 1)) : 0;
  const int hi = fmt.is_signed ? (1 << (fmt.bits - 1)) - 1 : levels - 1;
  std::uniform_int_distribution<int> code(lo, hi);
  w.codes.resize(static_cast<size_t>(n * k));
  for (auto& c : w.codes) c = code(rng);
  const int64_t groups = launch::group_count(k, fmt.group_size);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  w.scales.resize(static_cast<size_t>(n * groups));
  for (auto& s : w.scales) s = scale(rng);
  if (!fmt.is_signed) {
    std::uniform_int_distribution<int> zero(0, levels - 1);
    w.zeros.resize(static_cast<size_t>(n * groups));
    for (auto& z : w.zeros) z = zero(rng);
  }
  return w;
}

inline reference::ActCodes random_acts(std::mt19937& rng, int64_t m, int64_t k, abq_act_format fmt,
                                       abq_dtype dtype = ABQ_DTYPE_F16) {
  reference::ActCodes x;
  x.fmt = fmt;
  x.m = m;
  x.k = k;
  if (fmt.bits == 16) {
    std::normal_distribution<float> v(0.0f, 1.0f);
    x.values.resize(static_cast<size_t>(m * k));
    for (auto& e : x.values) e = reference::dtype_to_float(reference::float_to_dtype(v(rng), dtype), dtype);
    return x;
  }
  const int levels = launch::effective_levels(fmt.bits, fmt.levels);
  const int lo = fmt.is_signed ? -(1 << (fmt.bits - 1)) : 0;
  const int hi = fmt.is_signed ? (1 << (fmt.bits - 1)) - 1 : levels - 1;
  std::uniform_int_distribution<int> code(lo, hi);
  x.codes.resize(static_cast<size_t>(m * k));
  for (auto& c : x.codes) c = code(rng);
  std::uniform_real_distribution<float> scale(0.01f, 0.5f);
  x.scales.resize(static_cast<size_t>(m));
  for (auto& s : x.scales) s = scale(rng);
  if (!fmt.is_signed) {
    std::uniform_int_distribution<int> zero(0, levels - 1);
    x.zeros.resize(static_cast<size_t>(m));
    for (auto& z : x.zeros) z = zero(rng);
  }
  return x;
}

inline std::string describe_case(int64_t m, int64_t n, int64_t k, abq_weight_format w, abq_act_format x) {
  std::ostringstream s;
  s << "M=" << m << " N=" << n << " K=" << k << " w" << w.bits << (w.levels == 5 ? "*" : "") << (w.is_signed ? "s" : "u")
    << "g" << w.group_size << " a" << x.bits << (x.is_signed ? "s" : "u");
  return s.str();
}

}  // namespace abq::kernels::testing

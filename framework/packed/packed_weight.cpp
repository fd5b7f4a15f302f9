// Packing fake_quant's codes, scales and zero-points into the kernels' layouts (packed_weight.h).
#include "framework/packed/packed_weight.h"

#include <cmath>

#include "framework/core/error.h"
#include "framework/packed/kernel_format.h"
#include "kernels/launch/format_check.h"
#include "kernels/reference/bitplane_pack.h"
#include "kernels/reference/sliced_pack.h"

namespace abq::packed {
namespace {

using quant::Granularity;

// Ranges per row of fake_quant's scale for a [n, k] weight, and whether one range serves all rows.
int64_t spec_ranges_per_row(const quant::QuantSpec& spec, int64_t k) {
  return spec.granularity == Granularity::per_group ? (k + spec.group_size - 1) / spec.group_size : 1;
}

std::vector<uint32_t> pack_codes(const std::vector<int32_t>& codes, int64_t n, int64_t k, const abq_weight_format& f,
                                 abq_path layout) {
  if (layout == ABQ_PATH_BITPLANE) return kernels::reference::pack_bitplanes(codes, n, k, f.bits);
  if (layout == ABQ_PATH_INT8_UNPACK || layout == ABQ_PATH_WEIGHT_ONLY)
    return kernels::reference::pack_sliced(codes, n, k, f.bits);
  throw Error(cat("pack_weight: layout must be bitplane, int8_unpack or weight_only, got ", abq_path_name(layout)));
}

std::vector<int32_t> unpack_codes(const PackedWeight& w) {
  if (w.layout == ABQ_PATH_BITPLANE)
    return kernels::reference::unpack_bitplanes(w.codes, w.n, w.k_padded, w.format.bits, w.format.is_signed != 0);
  return kernels::reference::unpack_sliced(w.codes, w.n, w.k_padded, w.format.bits, w.format.is_signed != 0);
}

int32_t integer_zero(float z, int64_t row, int64_t group) {
  if (!std::isfinite(z) || std::nearbyint(z) != z || std::fabs(z) > 1e6f)
    throw Error(cat("pack_weight: zero-point ", z, " of row ", row, ", group ", group, " is not an integer"));
  return static_cast<int32_t>(z);
}

}  // namespace

int64_t PackedWeight::groups() const {
  return kernels::launch::group_count(k_padded, format.group_size);
}

int64_t PackedWeight::resident_bytes() const {
  return int64_t(codes.size() * sizeof(uint32_t) + scales.size() * sizeof(float) + zeros.size() * sizeof(int32_t));
}

PackedWeight pack_weight(const quant::QuantSpec& spec, int64_t n, int64_t k, const int32_t* codes, const float* scale,
                         const float* zero, abq_path layout) {
  const std::string problem = weight_packing_problem(spec, n, k);
  if (!problem.empty()) throw Error(cat("weight ", quant::describe(spec, "w"), " [", n, ", ", k, "] cannot run packed: ", problem));
  PackedWeight w;
  w.spec = spec;
  w.format = weight_format(spec);
  w.layout = layout;
  w.n = n;
  w.k = k;
  w.k_padded = padded_k(k);
  const int64_t G = w.groups(), L = kernels::launch::group_length(w.k_padded, w.format.group_size);
  const int64_t spec_groups = spec_ranges_per_row(spec, k);
  const bool shared = spec.granularity == Granularity::per_tensor;
  const bool is_signed = w.format.is_signed != 0;
  const int32_t levels = kernels::launch::effective_levels(w.format.bits, w.format.levels);
  const int32_t lo = is_signed ? -(1 << (w.format.bits - 1)) : 0;
  const int32_t hi = is_signed ? (1 << (w.format.bits - 1)) - 1 : levels - 1;

  w.scales.assign(size_t(n * G), 0.0f);
  if (!is_signed) w.zeros.assign(size_t(n * G), 0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t g = 0; g < std::min(G, spec_groups); ++g) {  // groups past the spec's are padding only
      const int64_t at = shared ? 0 : r * spec_groups + g;
      w.scales[size_t(r * G + g)] = scale[at];
      if (!is_signed) w.zeros[size_t(r * G + g)] = integer_zero(zero[at], r, g);
    }

  std::vector<int32_t> padded(size_t(n * w.k_padded));
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t j = 0; j < k; ++j) {
      const int32_t c = codes[r * k + j];
      if (c < lo || c > hi)
        throw Error(cat("pack_weight: code ", c, " at [", r, ", ", j, "] is outside [", lo, ", ", hi, "] of ",
                        describe(w.format)));
      padded[size_t(r * w.k_padded + j)] = c;
    }
    for (int64_t j = k; j < w.k_padded; ++j) {
      const int32_t z = is_signed ? 0 : w.zeros[size_t(r * G + j / L)];
      const bool fits = z >= lo && z <= hi;
      w.padding_exact = w.padding_exact && fits;
      padded[size_t(r * w.k_padded + j)] = fits ? z : 0;
    }
  }
  w.codes = pack_codes(padded, n, w.k_padded, w.format, layout);
  return w;
}

PackedWeight repack(const PackedWeight& w, abq_path layout) {
  if (layout == w.layout) return w;
  PackedWeight out = w;
  out.layout = layout;
  out.codes = pack_codes(unpack_codes(w), w.n, w.k_padded, w.format, layout);
  return out;
}

kernels::reference::WeightCodes unpack(const PackedWeight& w) {
  kernels::reference::WeightCodes out;
  out.fmt = w.format;
  out.n = w.n;
  out.k = w.k_padded;
  out.codes = unpack_codes(w);
  out.scales = w.scales;
  out.zeros = w.zeros;
  return out;
}

std::vector<float> dequantize(const PackedWeight& w) {
  const std::vector<int32_t> codes = unpack_codes(w);
  const int64_t G = w.groups(), L = kernels::launch::group_length(w.k_padded, w.format.group_size);
  std::vector<float> out(size_t(w.n * w.k));
  for (int64_t r = 0; r < w.n; ++r)
    for (int64_t j = 0; j < w.k; ++j) {
      const int64_t g = r * G + j / L;
      const float z = w.zeros.empty() ? 0.0f : static_cast<float>(w.zeros[size_t(g)]);
      // fake_quant: (q − z)·Δ in fp32, q and z integer-valued floats (the subtraction is exact).
      out[size_t(r * w.k + j)] = (static_cast<float>(codes[size_t(r * w.k_padded + j)]) - z) * w.scales[size_t(g)];
    }
  return out;
}

}  // namespace abq::packed

// PackedWeight: one linear's quantized weight as the kernels take it (kernels/kernels.h,
// `abq_weights`), with the QuantSpec its codes are on. Pure C++ (no LibTorch).
//
//   codes   uint32 words of `layout` over [n][k_padded]: ABQ_PATH_BITPLANE bit-planes
//           (reference/bitplane_pack.h) or the sliced layout (tile/sliced_layout.h) shared by
//           ABQ_PATH_INT8_UNPACK and ABQ_PATH_WEIGHT_ONLY
//   scales  float [n][groups], zeros int32 [n][groups] (empty when the format is signed);
//           groups = k_padded / group_size, or 1 per output channel
//
// Padding (k < k_padded, see kernel_format.h): column j ≥ k of row r holds the code of zero of
// its group, wq = zw (0 for signed formats), so (xq − zx)·(wq − zw) = 0 for any activation code:
// the padded GEMM equals the unpadded one exactly. Groups made only of padding get scale 0 and
// zero-point 0. When a zero-point lies outside the code range [0, levels) — fake_quant does not
// clamp z, so a group whose weights all share one sign has one — the padding code cannot equal
// it; such a weight records padding_exact = false and the backend pads the activations with
// their own zero-point instead (packed_gemm.h).
#pragma once

#include <cstdint>
#include <vector>

#include "framework/quant/quant_spec.h"
#include "kernels/kernels.h"
#include "kernels/reference/gemm_reference.h"

namespace abq::packed {

struct PackedWeight {
  quant::QuantSpec spec;        // the grid of the codes (weights role)
  abq_weight_format format{};   // its kernel encoding (kernel_format.h)
  abq_path layout = ABQ_PATH_WEIGHT_ONLY;
  int64_t n = 0;                // output features
  int64_t k = 0;                // input features
  int64_t k_padded = 0;         // multiple of 128
  std::vector<uint32_t> codes;
  std::vector<float> scales;
  std::vector<int32_t> zeros;
  bool padding_exact = true;    // every padded code equals its group's zero-point

  int64_t groups() const;
  /// Bytes of codes, scales and zero-points.
  int64_t resident_bytes() const;
};

/// Packs fake_quant's result for a weight [n, k]: codes int32 [n][k] row-major, scale and zero
/// as fake_quant lays them out, flattened (per_tensor 1 value, per_channel / per_token n,
/// per_group n·ceil(k/G); zero ignored for symmetric specs). Throws abq::Error when the spec cannot
/// run packed (kernel_format.h), a code lies outside its format's range, a zero-point is not an
/// integer, or a count disagrees.
PackedWeight pack_weight(const quant::QuantSpec& spec, int64_t n, int64_t k, const int32_t* codes,
                         const float* scale, const float* zero, abq_path layout);

/// The same weight in another layout (the codes are unpacked and packed again).
PackedWeight repack(const PackedWeight& w, abq_path layout);

/// Codes [n][k_padded] as the exact CPU reference takes them (kernels/reference/gemm_reference.h).
kernels::reference::WeightCodes unpack(const PackedWeight& w);

/// (q − z)·s as fp32 [n][k] (padding dropped), computed as fake_quant computes its fake weight,
/// so it equals the simulated weight bit for bit.
std::vector<float> dequantize(const PackedWeight& w);

}  // namespace abq::packed

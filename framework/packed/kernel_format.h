// The format adapter: the one place that maps a QuantSpec onto the kernels' formats
// (kernels/kernels.h) and back. Every other file asks here; none spells a format itself.
//
// Weights (QuantSpec -> abq_weight_format):
//   asymmetric, levels L = spec.levels()     unsigned codes [0, L) with zero-points;
//                                            bits = ceil(log2 L) (quant::code_bits), levels = L
//   W2* (bits 2 + bit_balance, 5 levels)     bits 3, levels 5: the one encoding of W2*
//   symmetric (q ∈ [−Q, Q], Q = 2^(b−1)−1)   signed two's complement in b bits, no zero-points
//   per_group G ∈ {64, 128}                  group_size G
//   per_channel, per_tensor                  group_size 0 (one group per output channel; a
//                                            per_tensor scale is repeated on every row)
// Back (abq_weight_format -> QuantSpec): levels 2^b + 1 -> bit_balance at b = levels − 1's log2;
// signed -> symmetric; group_size 0 -> per_channel (per_tensor is not recoverable: it is a
// per_channel grid whose rows share one scale).
//
// K: every kernel path needs K % 128 == 0. A linear of input size K runs with K padded to
// padded_k(K) = ceil(K / 128)·128 with codes that contribute exactly 0 (packed_weight.h): the
// ragged last group of fake_quant (K % G ≠ 0) is the first part of the last padded group, so the
// groups of the simulated and the packed weight coincide.
//
// Activations (QuantSpec -> abq_act_format), fused into the kernel call when the spec is the
// kernels' per-token quantizer (kernels/reference/act_quant_reference.h): enabled, dynamic,
// per_token, clip_ratio 1, bits 2..8 (asymmetric: levels spec.levels(); symmetric: signed).
// Any other enabled activation spec stays a fake-quantizing hook in front of the linear, which
// then runs weight-only (bits 16) on the hook's output; a disabled spec is bits 16.
#pragma once

#include <cstdint>
#include <string>

#include "framework/quant/quant_spec.h"
#include "kernels/kernels.h"

namespace abq::packed {

/// The K step of every kernel path (one m8n8k128 b1 MMA step).
inline constexpr int64_t kKStep = 128;

/// K rounded up to a multiple of kKStep.
int64_t padded_k(int64_t k);

/// "" when an enabled weight spec can run packed on a weight [n, k]; otherwise why not, naming K
/// and the group size ("group size 32 is not one the kernels run (64, 128, or one group per
/// output channel)"). A disabled spec (bits 16) has nothing to pack and gives a message too.
std::string weight_packing_problem(const quant::QuantSpec& spec, int64_t n, int64_t k);

/// The kernel format of an enabled weight spec; throws abq::Error with weight_packing_problem's
/// message (k = 0 skips the shape checks).
abq_weight_format weight_format(const quant::QuantSpec& spec);

/// The QuantSpec grid a kernel weight format executes (see the table above).
quant::QuantSpec weight_spec(const abq_weight_format& format);

/// "" when an activation spec can be fused into the kernel call (enabled per-token dynamic, see
/// above); otherwise why not. Disabled specs give "" (nothing to fuse: bits 16).
std::string activation_fusion_problem(const quant::QuantSpec& spec);

/// The kernel format of a fusable activation spec, or bits 16 for a disabled one; throws
/// abq::Error with activation_fusion_problem's message otherwise.
abq_act_format activation_format(const quant::QuantSpec& spec);

/// The per-token QuantSpec a kernel activation format executes (bits 16: disabled).
quant::QuantSpec activation_spec(const abq_act_format& format);

/// "bits=3 levels=5 unsigned group=128" and "bits=8 signed", for messages and manifests.
std::string describe(const abq_weight_format& format);
std::string describe(const abq_act_format& format);

}  // namespace abq::packed

// Learnable equivalent transformations of one decoder block: OmniQuant's LET scales, ABQ-LLM's
// extra up -> down pair and rank-1 compensation, and AffineQuant's matrices. transform_block()
// returns the block's weights with every transformation applied, on the autograd graph, so the
// loss reaches the parameters; the block computes the same function as the fp block (exactly for
// every pair except the q/k ones, which act before RoPE) until its weights are quantized.
//
// Weights are [out, in] and y = x·Wᵀ + b. "Columns × s" is W·diag(s) (input channels), "rows ÷ s"
// is diag(s)⁻¹·W (output channels, and the bias). Spec abq-llm-algorithm.md §7 (LET), §8
// (compensation), §19 (AffineQuant); reference: bytedance/ABQ-LLM algorithm/models/transformation.py
// and algorithm/quantize/utils.py (smooth_and_quant_temporary).
//   qkv  input_layernorm ÷ s, q/k/v columns × s                                 s [C]
//   fc1  post_attention_layernorm ÷ s, gate/up columns × s                      s [C]
//   out  v rows ÷ s, o columns × s expanded over the G query heads of a KV head   s [Hkv·D]
//   qkt  k rows × s, q rows ÷ s (expanded over G)                                s [Hkv·D]
//   fc2  up rows ÷ s, down columns × s (exact: silu(gate)·up is linear in up)    s [F]
//   comp down ← down + a·b, a [C, 1] = 0, b [1, F] = 1 at init                   (ABQ-LLM)
// AffineQuant (M = A ⊙ mask):
//   ln matrix   q/k/v (or gate/up) ← W·Mᵀ and the normed activation ← x·M⁻¹ online (an online
//               transform of the block: it cannot fold into an RMSNorm weight)
//   out matrix  per KV head j: v_j rows ← M_j⁻ᵀ·W_v, b_v ← b_v·M_j⁻¹; o columns of every query head
//               of group j ← W_o·M_jᵀ                                            M [Hkv, D, D]
//   qk matrix   per KV head j: k ← M_j·W_k, q heads of group j ← M_j⁻ᵀ·W_q       M [Hkv, D, D]
// A matrix replaces the diagonal scale of its pair; it is initialised to diag(s) (qk: identity).
// AffineQuant's shifts δ (spec §19.3, reference bytedance/AffineQuant models/transformation.py),
// zero-initialised; W is the linear's weight before the pair's scaling:
//   qkv, fc1  the normed activation gets the input bias −δ/s (matrix: −δ, then x·M⁻¹ online);
//             every linear reading it gets bias b + W·δ                                δ [C]
//   out       b_v ← (b_v − δ)/s (matrix: (b_v − δ)·M_j⁻¹ per KV head), b_v already holding
//             W_v·δ_qkv; b_o ← b_o + W_o·δ expanded over the G query heads            δ [Hkv·D]
// Exact for any δ: each linear's bias gives back what its shifted input takes away, and the
// attention average carries v's constant shift through unchanged (its probabilities sum to 1).
// The q/k pair transforms the biases the shifts create exactly as it transforms the rows.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "framework/methods/learned/learned_options.h"
#include "framework/model/attention.h"
#include "framework/model/decoder_block.h"

namespace abq::methods {

/// Per-input-channel max|x| of the fp block's linears (the reference's act_scales, spec §3).
struct ActivationAbsMax {
  torch::Tensor q_proj_input;     // [C]
  torch::Tensor up_proj_input;    // [C]
  torch::Tensor o_proj_input;     // [H·D]
  torch::Tensor down_proj_input;  // [F]
};

/// The learnable tensors of one block; undefined = that piece is off. All fp32 leaves with grad.
struct TransformParams {
  torch::Tensor s_qkv, s_fc1, s_out, s_qkt, s_fc2;  // LET diagonal scales
  torch::Tensor a_qkv, a_fc1;                       // AffineQuant [C, C]
  torch::Tensor a_out, a_qk;                        // AffineQuant [Hkv, D, D]
  torch::Tensor shift_qkv, shift_fc1, shift_out;    // AffineQuant shifts δ [C], [C], [Hkv·D]
  torch::Tensor comp_left, comp_right;              // rank-1 compensation [C, 1], [1, F]

  /// LET scales, affine matrices and shifts (one optimizer group, let_lr).
  std::vector<torch::Tensor> let_parameters() const;
  /// comp_left, comp_right when defined (compensation_lr).
  std::vector<torch::Tensor> compensation_parameters() const;
  /// Every defined tensor with its name (s_qkv, a_out, shift_qkv, comp_left, ...), for checkpoints and tests.
  std::vector<std::pair<std::string, torch::Tensor>> named() const;
  /// Every slot, defined or not (e.g. to move the parameters to a device).
  std::vector<torch::Tensor*> slots();
};

/// Initial parameters (spec §7.2): s = max(a^α / max_i|W_ij|^(1-α), 1e-5) with a and max|W| clamped
/// at ≥ 1e-5, a from `act` and max|W| over the key layer's own weight (q, up, o, down); s_out keeps
/// group 0 of each KV head under GQA; s_qkt = 1; shifts (options.shifts) = 0 on the qkv, fc1 and
/// out pairs that are on. Compensation only when `with_compensation`.
TransformParams init_transform(const model::DecoderBlock& fp, const ActivationAbsMax& act,
                               const model::AttentionDims& dims, const LearnedOptions& options,
                               bool with_compensation);

/// AffineQuant's gradual mask for an n×n matrix at `epoch` of `epochs` (spec §19.2): 1 on the
/// diagonal, `sf` on the band 0 < |i-j| < n_e with n_e = ⌊(n-1)/(E-1)·e⌋ + 1 (E = 1: full band),
/// 0 elsewhere; gradual = false gives the full band at every epoch.
torch::Tensor band_mask(int64_t n, int64_t epoch, int64_t epochs, double sf, bool gradual);

struct AffineMasks {
  torch::Tensor hidden;  // [C, C] for a_qkv / a_fc1
  torch::Tensor head;    // [D, D] for every head block of a_out / a_qk
};
AffineMasks affine_masks(const model::AttentionDims& dims, int64_t hidden, int64_t epoch, int64_t epochs,
                         const AffineOptions& options);

/// The reference's truncate_number, applied to the parameter data before every forward: each LET
/// scale with |s| < 1e-2 becomes sign(s)·1e-2.
void truncate_scales(TransformParams& params);

/// The fp block with every defined transformation applied (graph-connected to `params`).
model::DecoderBlock transform_block(const model::DecoderBlock& fp, const TransformParams& params,
                                    const AffineMasks& masks, const model::AttentionDims& dims);

}  // namespace abq::methods

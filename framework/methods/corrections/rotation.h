// Rotation: QuaRot-style orthogonal rotation of the residual stream, which spreads activation and
// weight outliers over all channels while the fp model computes the same function.
// Paper: Ashkboos et al., "QuaRot: Outlier-Free 4-Bit Inference in Rotated LLMs", arXiv 2404.00456
// (NeurIPS 2024). Reference: spcl/QuaRot fake_quant/rotation_utils.py (`fuse_layer_norms`,
// `rotate_model`, `random_hadamard_matrix`, `apply_exact_had_to_linear`) and hadamard_utils.py.
//
// Steps (all in float64, cast back to the model's dtype at the end):
//  1. Fold every RMSNorm weight into what reads it (W ← W·diag(w) for q/k/v and gate/up, or
//     T ← diag(w)·T when the block has an online input transform T; the final norm into lm_head)
//     and set the norm weights to 1: RMSNorm(x·Q) = RMSNorm(x)·Q holds only for a unit weight.
//     A tied lm_head is first untied (copied from embed_tokens, config tie_embeddings = false).
//  2. Residual rotation by Q [C, C] = diag(s)·H_C/√C (s = seeded random signs; hadamard.h for
//     sizes that are not powers of two): embed ← embed·Q; W ← W·Q for q, k, v, gate, up (or
//     T ← Qᵀ·T); W ← Qᵀ·W and b ← b·Q for o_proj and down_proj; lm_head ← lm_head·Q.
//     q/k outputs are untouched, so RoPE stays exact.
//  3. rotate_ov: per head, V ← V·H_D (v_proj rows and bias) and o_proj's columns of that head
//     ← ·H_D, with H_D = H_D/√D (no signs), exact also with GQA (every query head reads one kv head).
//  4. online_down: the down_proj input is rotated online, down_input_transform = Q_F = H_F/√F (no
//     signs), and down_proj's W ← W·Q_F; an existing transform T becomes T·Q_F.
//
// residual = online (not in QuaRot) leaves the residual stream, the norm weights, embed and lm_head
// alone and rotates each norm's output instead: attn_input_transform / mlp_input_transform ← T·Q
// (Q when undefined) and W ← W·Q for q, k, v, gate, up. Steps 1–2 are skipped, 3–4 are the same.
// It costs one [C, C] matmul per token and norm, and exists because folding (step 1) can hurt:
// a model that damps a loud residual channel with a tiny norm weight (SmolLM2-135M: ‖x̂‖²/‖x̂·w‖²
// ≈ 455 at layer 0) moves that damping into weight columns, where per-channel rounding error is
// no smaller than on the other columns and then meets the undamped activation. Error-aware
// quantizers (GPTQ) see that activation in their Hessian and compensate; round-to-nearest cannot.
//
// Deliberate differences from the reference: no online Hadamard on Q/K after RoPE (QuaRot's
// KV-cache rotation), no rotation of attention inputs beyond the residual one; the online down
// rotation is a dense [F, F] matmul (one tensor shared by all layers) where QuaRot runs a fast
// Walsh–Hadamard kernel; sizes QuaRot covers with its stored Hadamard matrices of orders 52, 156,
// 172 use hadamard.h's fallback. Data-free: the calibration windows are not read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/methods/correction.h"
#include "framework/config/options.h"

namespace abq::methods {

enum class ResidualRotation {
  fused,   // QuaRot: norms folded, residual stream rotated, Q absorbed by embed / lm_head (free at run time)
  online,  // norms kept, each norm output rotated by Q online (one [C, C] matmul per token and norm)
};

struct RotationOptions {
  uint64_t seed = 0;         // random signs of Q (and the fallback's random factor)
  ResidualRotation residual = ResidualRotation::fused;
  bool online_down = true;   // rotate the down_proj input online by H_F (down_input_transform)
  bool rotate_ov = true;     // per-head Hadamard between v_proj and o_proj
};
/// The one declaration of the RotationOptions keys (type, range, doc; defaults are the struct's).
const config::OptionSet<RotationOptions>& rotation_options();

/// Step 1 alone: RMSNorm weights folded into the linears (or online transforms) that read them,
/// norm weights set to 1, lm_head untied (when tied) before the final norm is folded into it.
/// Output-preserving. The model's activation hooks are kept.
void fold_rms_norms(model::LlamaModel& model);

class Rotation final : public Correction {
 public:
  explicit Rotation(RotationOptions options = {}) : options_(options) {}
  std::string name() const override { return "rotation"; }
  /// Q [C, C] (float64, CPU) of the last apply(); undefined before.
  const torch::Tensor& residual_rotation() const { return residual_; }
  const RotationOptions& options() const { return options_; }

 protected:
  /// Rewrites the model as described above; `calibration_tokens` are not needed (may be empty).
  void run(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration_tokens,
           const WeightSpecs& weight_specs) override;

 private:
  RotationOptions options_;
  torch::Tensor residual_;
};

}  // namespace abq::methods

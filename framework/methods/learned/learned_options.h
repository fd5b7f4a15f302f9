// Options of learned block-wise calibration (OmniQuant / AffineQuant / ABQ-LLM family): which
// learnable pieces exist, how they are trained, and which loss terms drive them. Every ABQ-LLM
// addition is its own switch so the paper's ablation study re-runs from YAML
// (spec abq-llm-algorithm.md §14). Defaults are the reference scripts' (§6-§11).
// learned_options() is the one declaration of the YAML keys (quant.weight_quantizer with type
// `learned`): schema, `abq describe learned`, decoding and the resume fingerprint come from it.
#pragma once

#include <cstdint>
#include <string>

#include "framework/config/options.h"

namespace abq::methods {

/// The LET smoothing pairs (spec §7.1). fc2 (up -> down) is ABQ-LLM's addition.
struct LetPairs {
  bool qkv = true;   // input_layernorm -> q, k, v
  bool out = true;   // v_proj rows -> o_proj columns (per KV head under GQA)
  bool fc1 = true;   // post_attention_layernorm -> gate, up
  bool fc2 = false;  // up_proj rows -> down_proj columns
  bool qkt = true;   // q_proj rows ÷ s, k_proj rows × s (before RoPE: approximate)
};

/// AffineQuant's matrices in place of diagonal scales (spec §19).
struct AffineOptions {
  bool ln_matrix = false;  // norm -> {q,k,v} and norm -> {gate,up}: full C×C matrix, inverse applied online
  bool out_matrix = false; // v -> o: block-diagonal per KV head (exact, folds into the weights)
  bool qk_matrix = false;  // q / k: block-diagonal per KV head, identity init (before RoPE: approximate)
  double stability_factor = 1.0;  // sf: off-diagonal mask value
  bool gradual_mask = true;       // widen the band over epochs; false: full band from the start
  bool any() const { return ln_matrix || out_matrix || qk_matrix; }
};

/// Block loss terms (spec §9); all weights are 1, as in the reference.
struct LossOptions {
  bool mse = true;             // MSE(Y_fp, Y_q)
  bool aug_mse = false;        // MSE(Y_fp2, Y_q): OmniQuant --aug_loss; always on in ABQ-LLM
  bool dlc = false;            // -log|mean cos(Y_q, Y_fp)| - log|mean cos(Y_q, Y_fp2)|  (ABQ-LLM)
  bool attention_kl = false;   // both KL directions between head-mean attention maps (ABQ-LLM)
  bool double_softmax = true;  // the reference re-softmaxes the probabilities; false: KL on the probabilities
};

struct LearnedOptions {
  int64_t epochs = 20;
  int64_t batch_size = 1;        // windows per optimizer step
  double weight_decay = 0.0;     // AdamW wd (the reference's --wd 0)

  bool lwc = true;               // learnable weight clipping (two sigmoid factors per row / group)
  double lwc_init = 4.0;         // initial γ = β; σ(4) ≈ 0.982
  double lwc_lr = 1e-2;

  bool let = false;              // learnable equivalent transformation
  double let_lr = 5e-3;
  double alpha = 0.5;            // LET init: s = max|x|^α / max|W|^(1-α)
  LetPairs pairs;
  bool shifts = false;           // AffineQuant: trainable shifts δ (init 0) on the qkv, fc1 and out pairs;
                                 // OmniQuant / ABQ-LLM keep them off on LLaMA (spec §7.3, §19.3)

  bool compensation = false;     // rank-1 a·b on down_proj (ABQ-LLM)
  int64_t compensation_first = 3;  // blocks 0 .. first-1
  int64_t compensation_last = 4;   // blocks L-last .. L-1
  double compensation_lr = 1e-2;

  AffineOptions affine;
  LossOptions loss;

  bool amp = false;              // forward under autocast (fp16 on CUDA, bf16 on CPU); parameters stay fp32
  int64_t max_restarts = 2;      // a non-finite loss or parameter restarts the block this many times
  double restart_lr_factor = 0.1;  // learning rates × this on every restart; then the block falls back to RTN
};

const config::OptionSet<LearnedOptions>& learned_options();

}  // namespace abq::methods

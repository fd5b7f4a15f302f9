// Trains one decoder block's learnable quantization parameters (LWC factors, LET scales, affine
// matrices, rank-1 compensation) with AdamW against the fp teacher, as the OmniQuant / AffineQuant /
// ABQ-LLM loop does per block (spec abq-llm-algorithm.md §4-§10):
//   every step: truncate the LET scales (|s| < 1e-2 -> ±1e-2), build the transformed block,
//   fake-quantize its weights on the (clipped) ranges, run it with the activation quantizers on,
//   compute the block loss, backward, and take one AdamW step — skipped when a gradient is
//   non-finite (the reference's GradScaler-style wrapper does the same).
// Three parameter groups: LET scales + affine matrices + shifts at let_lr, compensation at compensation_lr, LWC at lwc_lr,
// weight decay `weight_decay` (0 in the reference: plain Adam, β (0.9, 0.999), eps 1e-8).
// Everything runs in fp32 (the block is cast; ABQ-LLM forces fp32); with `amp` the forward runs
// under autocast.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "framework/methods/learned/block_loss.h"
#include "framework/methods/learned/block_transform.h"
#include "framework/methods/learned/learnable_clipping.h"
#include "framework/methods/learned/learned_options.h"
#include "framework/model/activation_hooks.h"
#include "framework/model/decoder_block.h"
#include "framework/model/rope.h"
#include "framework/model/site_names.h"
#include "framework/quant/quant_spec.h"

namespace abq::methods {

/// What the trainer needs to know about the block besides its weights.
struct BlockSetup {
  model::AttentionDims dims;
  double rms_eps = 1e-6;
  model::RopeTable rope;                          // positions 0..T-1, fp32, on the block's device
  std::array<quant::QuantSpec, 7> weight_specs;   // by LinearKind index (model::all_linear_kinds order)
  model::LayerHooks activation_hooks;             // the quantized stream's activation quantizers
  ActivationAbsMax act_absmax;                    // fp statistics for the LET initialisation
  bool compensation = false;                      // rank-1 compensation in this block
};

/// The block's weights after training, fake-quantized, plus per-linear quantization statistics.
struct BakedBlock {
  model::DecoderBlock block;                       // in fp32; online transforms set when affine ln matrices are used,
                                                   // norm input biases and linear biases when shifts are on
  std::array<torch::Tensor, 7> transformed;        // the transformed fp weights (before quantization), by LinearKind
};

class BlockTrainer {
 public:
  /// fp_block: the block's fp weights (any float dtype; copied to fp32). lr_scale multiplies every
  /// learning rate (restarts after a non-finite loss use a smaller one).
  BlockTrainer(const model::DecoderBlock& fp_block, BlockSetup setup, const LearnedOptions& options,
               double lr_scale = 1.0);

  /// Sets AffineQuant's masks for `epoch` (no-op without affine matrices). Call before its steps.
  void begin_epoch(int64_t epoch);
  /// One step on a batch: x_q [B, T, C] quantized-chain inputs, y_fp / y_fp2 [B, T, C] targets,
  /// attn_fp [B, T, T] head-mean fp attention (undefined when unused). Returns the loss before the
  /// step. A non-finite loss takes no step; the caller restarts or falls back.
  BlockLoss step(const torch::Tensor& x_q, const torch::Tensor& y_fp, const torch::Tensor& y_fp2,
                 const torch::Tensor& attn_fp);
  /// Loss without a step (no grad), e.g. for the first-step value in tests.
  BlockLoss evaluate(const torch::Tensor& x_q, const torch::Tensor& y_fp, const torch::Tensor& y_fp2,
                     const torch::Tensor& attn_fp);
  /// The quantized block with the current parameters (no grad).
  BakedBlock bake();

  /// True when every parameter is finite.
  bool parameters_finite() const;
  int64_t steps() const { return steps_; }
  int64_t skipped_steps() const { return skipped_steps_; }
  const TransformParams& transform() const { return transform_; }
  /// LWC factors by LinearKind index (undefined entries: LWC off or the site not quantized).
  const std::array<ClipFactors, 7>& clip_factors() const { return clips_; }

 private:
  model::DecoderBlock quantized_block(bool keep_transformed, std::array<torch::Tensor, 7>* transformed);
  BlockLoss forward_loss(const torch::Tensor& x_q, const torch::Tensor& y_fp, const torch::Tensor& y_fp2,
                         const torch::Tensor& attn_fp);

  model::DecoderBlock fp_;
  BlockSetup setup_;
  LearnedOptions options_;
  TransformParams transform_;
  std::array<ClipFactors, 7> clips_;
  AffineMasks masks_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::vector<torch::Tensor> all_parameters_;
  int64_t epochs_ = 1;
  int64_t steps_ = 0;
  int64_t skipped_steps_ = 0;
};

}  // namespace abq::methods

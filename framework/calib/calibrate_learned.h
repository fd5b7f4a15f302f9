// Learned block-wise calibration: OmniQuant, AffineQuant and ABQ-LLM (spec abq-llm-algorithm.md
// §4, §13, §18, §19). Per block, with the streams of calibrate_blockwise.h:
//   1. teacher passes with the fp block: Y_fp (and the head-mean attention A_fp) from X_fp, per-channel
//      max|x| of the linears' inputs for the LET initialisation, and Y_fp2 = fp block on X_q;
//   2. a methods::BlockTrainer trains the block's parameters for `epochs` passes over the windows in
//      order (batch_size windows per step, no shuffling, as the reference);
//   3. the quantized block is baked into the model (weights, norms, online transforms);
//   4. X_q ← baked block on X_q with the activation quantizers, X_fp ← Y_fp; statistics; checkpoint.
// Activation and KV sites are fake-quantized dynamically during training with their specs (a site
// with static ranges is trained with dynamic ones; its static range is calibrated afterwards on
// the finished model by the pipeline).
// A non-finite loss or parameter restarts the block from its fp weights with every learning rate
// × restart_lr_factor, up to max_restarts times; then the block falls back to RTN. Both are listed
// in CalibrationReport::fallbacks. Checkpoints and resume as calibrate_blockwise (bit-identical on
// the CPU).
// Differences from the references, on purpose: the teacher passes run in the calibration dtype (the
// references use fp16 autocast); the q/k pair is also applied when baking (ABQ-LLM's in-place bake
// omits smooth_q_k_inplace for LLaMA, so its saved model drops a transform it trained with).
#pragma once

#include <vector>

#include <torch/torch.h>

#include "framework/calib/calibrate_blockwise.h"
#include "framework/methods/learned/learned_options.h"

namespace abq::calib {

/// spec_for_site answers for weight sites and for activation / KV sites (`layers.{i}.self_attn.q`,
/// `layers.{i}.mlp.down_proj.input`, ...). options.true_sequential is not used.
CalibrationReport calibrate_learned(model::LlamaModel& model, const SpecForSite& spec_for_site,
                                    const methods::LearnedOptions& learned,
                                    const std::vector<torch::Tensor>& calibration, const CalibOptions& options = {});

}  // namespace abq::calib

// The forward passes of one block over every calibration window, shared by the loop and the
// calibrators: with the model's hooks (the quantized stream), the fp teacher passes, and the
// specs' dynamic activation quantizers.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "framework/calib/block_calibrator.h"
#include "framework/model/llama_model.h"

namespace abq::calib {

/// Puts the model's activation hooks back when a pass ends, also when it throws (observer hooks
/// point at accumulators that die with the pass).
class RestoreHooks {
 public:
  explicit RestoreHooks(model::LlamaModel& model) : model_(model), hooks_(model.activation_hooks()) {}
  ~RestoreHooks() { model_.set_activation_hooks(hooks_); }
  RestoreHooks(const RestoreHooks&) = delete;
  RestoreHooks& operator=(const RestoreHooks&) = delete;
  const std::vector<model::LayerHooks>& saved() const { return hooks_; }

 private:
  model::LlamaModel& model_;
  std::vector<model::LayerHooks> hooks_;
};

/// Block `layer` over every window with the hooks the model holds now; results on stream_device.
std::vector<torch::Tensor> run_block(const model::LlamaModel& model, int64_t layer, const std::vector<torch::Tensor>& xs,
                                     const torch::Device& stream_device);

/// Dynamic fake quantizers at the layer's activation and KV sites (differentiable: STE rounding).
model::LayerHooks activation_quantizers(int64_t layer, const SpecForSite& spec_for_site);

/// Replaces the hooks of `layer` on the model (the caller restores them with RestoreHooks).
void set_layer_hooks(model::LlamaModel& model, int64_t layer, const model::LayerHooks& hooks);

/// The fp block (the model's block `layer` now, activation hooks off) over every window of `xs`.
std::vector<torch::Tensor> fp_block_outputs(const model::LlamaModel& model, int64_t layer,
                                            const std::vector<torch::Tensor>& xs, const torch::Device& stream_device);

/// The fp block (the model's block `layer` now, activation hooks off) on X_fp, with what `needs`
/// asks for: attention maps and input abs-max from X_fp, Y_fp2 on X_q when needs.fp_on_quantized.
Teacher teacher_passes(const model::LlamaModel& model, int64_t layer, const Streams& streams, const TeacherNeeds& needs,
                       const torch::Device& stream_device);

}  // namespace abq::calib

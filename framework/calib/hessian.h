// Input Hessians of linear layers for second-order quantizers (GPTQ): H = 2/N·Σ xᵀx over every
// token of N calibration windows, the scale of the GPTQ reference (gptq.py add_batch, where N counts
// sequences). Accumulated in float32 on the activations' device.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace abq::calib {

class HessianAccumulator {
 public:
  /// x: [B, T, in] (B windows) or [T, in] (one window); any float dtype.
  void add(const torch::Tensor& x);
  /// 2/N·Σ xᵀx, [in, in] float32. Throws abq::Error when nothing was added.
  torch::Tensor hessian() const;
  int64_t windows() const { return windows_; }

 private:
  torch::Tensor sum_;  // Σ xᵀx, [in, in]
  int64_t windows_ = 0;
};

/// tr(ΔW·H·ΔWᵀ)/2 in float64 with ΔW = weight - fake [out, in] and H [in, in]: for H = 2/N·ΣxᵀX this
/// is the mean over windows of Σ_tokens ||x·ΔWᵀ||², the layer-output error GPTQ minimizes.
double layer_output_loss(const torch::Tensor& weight, const torch::Tensor& fake, const torch::Tensor& hessian);

}  // namespace abq::calib

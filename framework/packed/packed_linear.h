// The packed form of a model linear (model::PackedLinear over a PackedWeight), and its making from
// a weight quantizer's codes, scales and zero-points.
#pragma once

#include <memory>

#include <torch/torch.h>

#include "framework/model/packed_linear.h"
#include "framework/packed/packed_weight.h"
#include "framework/quant/quant_spec.h"

namespace abq::packed {

class PackedLinearKernel : public model::PackedLinear {
 public:
  /// `activations`: the activation quantizer fused into the call (bits 16: none; the input is
  /// used as given). The weight is repacked into the backend's preferred layout for the formats.
  PackedLinearKernel(PackedWeight weight, const quant::QuantSpec& activations);

  int64_t out_features() const override { return weight_.n; }
  int64_t in_features() const override { return weight_.k; }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias) const override;
  torch::Tensor dequantized() const override;
  int64_t resident_bytes() const override { return weight_.resident_bytes(); }
  std::string describe() const override;

  const PackedWeight& weight() const { return weight_; }
  const quant::QuantSpec& activations() const { return activations_; }

 private:
  PackedWeight weight_;
  quant::QuantSpec activations_;
  abq_act_format act_format_{};
};

/// Packs a weight quantizer's result for `spec` (methods/weight_quantizer.h: codes int32 [out, in];
/// scale / zero shaped per granularity as quant/fake_quant.h lays them out). Throws abq::Error
/// when the spec cannot run packed (kernel_format.h).
PackedWeight pack_quantized(const quant::QuantSpec& spec, const torch::Tensor& codes, const torch::Tensor& scale,
                            const torch::Tensor& zero);

/// The packed linear of `weight` with `activations` fused when kernel_format.h allows it;
/// otherwise with none (the caller keeps that quantizer as a hook in front of the linear).
std::shared_ptr<const PackedLinearKernel> make_packed_linear(PackedWeight weight, const quant::QuantSpec& activations);

}  // namespace abq::packed

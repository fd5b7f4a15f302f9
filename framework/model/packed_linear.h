// PackedLinear: a linear weight held as quantized integer codes, scales and zero-points in the
// kernels' layout (framework/packed implements it; model/ only runs it). model/ knows nothing of
// the format: a Linear whose fp weight is absent runs its packed form (see linear.h).
#pragma once

#include <string>

#include <torch/torch.h>

namespace abq::model {

class PackedLinear {
 public:
  virtual ~PackedLinear() = default;
  virtual int64_t out_features() const = 0;
  virtual int64_t in_features() const = 0;
  /// x [..., in] -> [..., out] in x's dtype and on x's device; bias [out] or undefined. The
  /// activation quantizer fused into the call (if any) applies to x first.
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias) const = 0;
  /// (codes - zero)·scale as fp32 [out, in]: the weight the simulated model multiplies by.
  virtual torch::Tensor dequantized() const = 0;
  /// Bytes the packed codes, scales and zero-points occupy in memory.
  virtual int64_t resident_bytes() const = 0;
  /// One line: format, layout, padding and fused activation quantizer ("w4g128 on bits=4 ...").
  virtual std::string describe() const = 0;
};

}  // namespace abq::model

// Quantization error of a tensor against its fake-quantized version: MSE and SQNR.
// Used by the per-site statistics (store `sites` table: mse, sqnr) and by quantizer tests.
#pragma once

#include <torch/torch.h>

namespace abq::quant {

/// Mean of (x - x̂)², accumulated in float64. Throws abq::Error if the shapes differ or x is empty.
double mse(const torch::Tensor& x, const torch::Tensor& x_hat);

/// Signal-to-quantization-noise ratio in dB: 10·log10(Σx² / Σ(x - x̂)²), accumulated in float64.
/// +inf when x̂ == x exactly; -inf when x is all zeros and x̂ is not.
double sqnr_db(const torch::Tensor& x, const torch::Tensor& x_hat);

}  // namespace abq::quant

// What a quantized weight costs to store: the figure behind "average bits" in tables and behind
// the budgets of mixed-precision allocations. The accounting is stated once, here:
//   codes        ceil(log2(levels)) bits per element (W2* with 5 levels takes 3 bits);
//   scales       one float16 per range (16 bits): per_tensor 1, per_channel one per row,
//                per_group one per row and started group (a ragged last group counts);
//   zero-points  asymmetric specs only, one per range at the code width (as GPTQ / AWQ pack them).
// A disabled spec (bits >= 16) stores the weight as float16: 16 bits per element, no scales.
#pragma once

#include <cstdint>

#include "framework/quant/quant_spec.h"

namespace abq::quant {

struct StorageBits {
  int64_t codes = 0;   // the integer codes (or the float16 weight when not quantized)
  int64_t scales = 0;  // scales and zero-points
  int64_t total() const { return codes + scales; }
};

/// Bits per stored code: ceil(log2(spec.levels())); 16 for a disabled spec.
int code_bits(const QuantSpec& spec);

/// Storage of a [rows, cols] weight (rows = output channels) quantized with `spec`.
StorageBits weight_storage_bits(const QuantSpec& spec, int64_t rows, int64_t cols);

}  // namespace abq::quant

#include "framework/quant/storage_bits.h"

namespace abq::quant {
namespace {

constexpr int kScaleBits = 16;  // float16

int64_t ranges(const QuantSpec& spec, int64_t rows, int64_t cols) {
  switch (spec.granularity) {
    case Granularity::per_group: return rows * ((cols + spec.group_size - 1) / spec.group_size);
    case Granularity::per_channel:
    case Granularity::per_token: return rows;
    case Granularity::per_tensor:
    case Granularity::per_head: return 1;
  }
  return rows;
}

}  // namespace

int code_bits(const QuantSpec& spec) {
  if (!spec.enabled()) return 16;
  int bits = 0;
  while ((int64_t(1) << bits) < spec.levels()) ++bits;
  return bits;
}

StorageBits weight_storage_bits(const QuantSpec& spec, int64_t rows, int64_t cols) {
  StorageBits out;
  out.codes = int64_t(code_bits(spec)) * rows * cols;
  if (!spec.enabled()) return out;
  const int64_t per_range = kScaleBits + (spec.symmetric ? 0 : code_bits(spec));
  out.scales = per_range * ranges(spec, rows, cols);
  return out;
}

}  // namespace abq::quant

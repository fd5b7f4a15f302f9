// CPU packer for the bit-plane layout (see bitplane_pack.h).
#include "kernels/reference/bitplane_pack.h"

#include "framework/core/error.h"

namespace abq::kernels::reference {
namespace {

void check_shape(int64_t rows, int64_t k, int bits, size_t have, size_t per_element_words_times32, const char* what) {
  if (bits < 1 || bits > 8) throw Error(cat(what, ": bits must be in 1..8, got ", bits));
  if (rows < 1 || k < 32 || k % 32 != 0)
    throw Error(cat(what, ": need rows >= 1 and K a positive multiple of 32, got rows=", rows, " K=", k));
  const size_t want = static_cast<size_t>(rows * k) * per_element_words_times32 / 32;
  if (have != want) throw Error(cat(what, ": expected ", want, " entries for [", rows, " x ", k, "], got ", have));
}

}  // namespace

std::vector<uint32_t> pack_bitplanes(const std::vector<int32_t>& codes, int64_t rows, int64_t k, int bits) {
  check_shape(rows, k, bits, codes.size(), 32, "pack_bitplanes");
  const int64_t words = k / 32;
  std::vector<uint32_t> planes(static_cast<size_t>(bits * rows * words), 0u);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t kk = 0; kk < k; ++kk) {
      const uint32_t code = static_cast<uint32_t>(codes[r * k + kk]);
      for (int b = 0; b < bits; ++b)
        planes[(b * rows + r) * words + kk / 32] |= ((code >> b) & 1u) << (kk % 32);
    }
  return planes;
}

std::vector<int32_t> unpack_bitplanes(const std::vector<uint32_t>& planes, int64_t rows, int64_t k, int bits,
                                      bool is_signed) {
  check_shape(rows, k, bits, planes.size(), static_cast<size_t>(bits), "unpack_bitplanes");
  const int64_t words = k / 32;
  std::vector<int32_t> codes(static_cast<size_t>(rows * k));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t kk = 0; kk < k; ++kk) {
      int32_t v = 0;
      for (int b = 0; b < bits; ++b) v |= static_cast<int32_t>((planes[(b * rows + r) * words + kk / 32] >> (kk % 32)) & 1u) << b;
      if (is_signed && (v >> (bits - 1)) & 1) v -= 1 << bits;
      codes[r * k + kk] = v;
    }
  return codes;
}

}  // namespace abq::kernels::reference

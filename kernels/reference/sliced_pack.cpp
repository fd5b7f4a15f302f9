// CPU packer for the sliced weight layout (contract in tile/sliced_layout.h).
#include "kernels/reference/sliced_pack.h"

#include "framework/core/error.h"
#include "kernels/tile/sliced_layout.h"

namespace abq::kernels::reference {
namespace {

void check_shape(int64_t n, int64_t k, int bits, const char* what) {
  if (bits < 1 || bits > 8) throw Error(cat(what, ": bits must be in 1..8, got ", bits));
  if (n < 1 || k < 32 || k % 32 != 0)
    throw Error(cat(what, ": need N >= 1 and K a positive multiple of 32, got N=", n, " K=", k));
}

}  // namespace

std::vector<uint32_t> pack_sliced(const std::vector<int32_t>& codes, int64_t n, int64_t k, int bits) {
  check_shape(n, k, bits, "pack_sliced");
  if (static_cast<int64_t>(codes.size()) != n * k)
    throw Error(cat("pack_sliced: expected N*K = ", n * k, " codes, got ", codes.size()));
  const tile::SliceSet set = tile::slices_for_bits(bits);
  std::vector<uint32_t> words(static_cast<size_t>(n * k * bits / 32), 0u);
  for (int s = 0; s < set.count; ++s) {
    const int w = set.width[s];
    const int64_t row_words = tile::slice_row_words(k, w), per_word = 32 / w;
    uint32_t* base = words.data() + set.word_offset_per_nk32[s] * (n * k / 32);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t kk = 0; kk < k; ++kk) {
        const uint32_t field = (static_cast<uint32_t>(codes[r * k + kk]) >> set.shift[s]) & ((1u << w) - 1u);
        base[r * row_words + kk / per_word] |= field << tile::slice_bit_position(static_cast<int>(kk % per_word), w);
      }
  }
  return words;
}

std::vector<int32_t> unpack_sliced(const std::vector<uint32_t>& words, int64_t n, int64_t k, int bits, bool is_signed) {
  check_shape(n, k, bits, "unpack_sliced");
  if (static_cast<int64_t>(words.size()) != n * k * bits / 32)
    throw Error(cat("unpack_sliced: expected N*K*bits/32 = ", n * k * bits / 32, " words, got ", words.size()));
  const tile::SliceSet set = tile::slices_for_bits(bits);
  std::vector<int32_t> codes(static_cast<size_t>(n * k));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t k0 = 0; k0 < k; k0 += 4) {
      uint32_t bytes = 0;
      for (int s = 0; s < set.count; ++s) {
        const uint32_t* row = words.data() + set.word_offset_per_nk32[s] * (n * k / 32) +
                              r * tile::slice_row_words(k, set.width[s]);
        bytes |= tile::slice_extract4(row, k0, set.width[s]) << set.shift[s];
      }
      for (int e = 0; e < 4; ++e) {
        int32_t v = static_cast<int32_t>((bytes >> (8 * e)) & 0xffu);
        if (is_signed && (v >> (bits - 1)) & 1) v -= 1 << bits;
        codes[r * k + k0 + e] = v;
      }
    }
  return codes;
}

std::vector<uint8_t> pack_int8_containers(const std::vector<int32_t>& codes) {
  std::vector<uint8_t> out(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) {
    if (codes[i] < -128 || codes[i] > 255)
      throw Error(cat("pack_int8_containers: code ", codes[i], " at ", i, " does not fit a byte"));
    out[i] = static_cast<uint8_t>(codes[i] & 0xff);
  }
  return out;
}

}  // namespace abq::kernels::reference

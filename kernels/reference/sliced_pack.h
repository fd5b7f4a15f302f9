// CPU packer for the sliced weight layout of ABQ_PATH_INT8_UNPACK and ABQ_PATH_WEIGHT_ONLY
// (layout contract in tile/sliced_layout.h), and the int8 activation containers of the int8 path.
#pragma once

#include <cstdint>
#include <vector>

namespace abq::kernels::reference {

/// Packs codes [N][K] (K % 32 == 0; the low `bits` bits of each code, so signed codes are stored
/// as two's complement) into N·K·bits/32 words. Throws abq::Error on bad sizes.
std::vector<uint32_t> pack_sliced(const std::vector<int32_t>& codes, int64_t n, int64_t k, int bits);

/// Inverse of pack_sliced, read back four elements at a time with the device formula
/// (tile::slice_extract4); sign-extends from `bits` when is_signed.
std::vector<int32_t> unpack_sliced(const std::vector<uint32_t>& words, int64_t n, int64_t k, int bits, bool is_signed);

/// Activation codes [M][K] as the int8 path's byte containers: signed codes as int8, unsigned as uint8.
std::vector<uint8_t> pack_int8_containers(const std::vector<int32_t>& codes);

}  // namespace abq::kernels::reference

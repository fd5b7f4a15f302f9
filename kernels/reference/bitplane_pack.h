// Bit-plane layout of ABQ_PATH_BITPLANE (weights and activations alike), and its CPU packer.
//
//   planes: uint32 [bits][rows][K/32]; word (b, r, w) bit j = bit b of code[r][32·w + j]
//
// LSB-first inside a word (element 32w + j at bit j); bit b of a signed code is bit b of its
// two's complement, so the top plane of a signed format carries weight −2^(bits−1) (ABQ-LLM's
// signed-MSB rule). Four consecutive words (128 k) are one operand row of mma m8n8k128 b1: lane
// (r, c) of a fragment reads word 4·step + c of row r. Only the AND+popc of matching bits matters,
// so any bit order works as long as both operands share it.
#pragma once

#include <cstdint>
#include <vector>

namespace abq::kernels::reference {

/// Packs codes [rows][K] (K % 32 == 0) into `bits` planes; throws abq::Error on bad sizes.
std::vector<uint32_t> pack_bitplanes(const std::vector<int32_t>& codes, int64_t rows, int64_t k, int bits);

/// Inverse of pack_bitplanes; sign-extends from `bits` when is_signed.
std::vector<int32_t> unpack_bitplanes(const std::vector<uint32_t>& planes, int64_t rows, int64_t k, int bits,
                                      bool is_signed);

}  // namespace abq::kernels::reference

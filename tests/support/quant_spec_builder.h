// One line per QuantSpec in tests: quant_spec(4, per_group, 128, /*symmetric=*/true).
#pragma once

#include <cstdint>

#include "framework/quant/quant_spec.h"

namespace abq::test {

inline quant::QuantSpec quant_spec(int bits, quant::Granularity g = quant::Granularity::per_channel, int64_t group = 0,
                                   bool symmetric = false, bool bit_balance = false) {
  quant::QuantSpec s;
  s.bits = bits;
  s.granularity = g;
  s.group_size = group;
  s.symmetric = symmetric;
  s.bit_balance = bit_balance;
  return s;
}

}  // namespace abq::test

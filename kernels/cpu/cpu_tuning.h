// The measured tuning table of the CPU path choice: `abq_cpu_gemm_bench --tune FILE` times the
// bitplane and int8_unpack paths on the same problems and writes one line per problem,
//
//   # abq cpu tuning v1
//   <w_bits> <x_bits> <M> <N> <K> <bitplane_us> <int8_unpack_us>
//
// abq_cpu_load_tuning (or ABQ_CPU_TUNE=FILE, read at the first abq_cpu_choose_path) loads it; a
// query then takes the faster path of the measured problem with the same (w_bits, x_bits) nearest
// in log M, log N, log K. Without a table or a matching (w_bits, x_bits), the instruction-count
// model of cpu_path_model.h decides.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace abq::kernels::cpu {

struct TuningEntry {
  int w_bits = 0, x_bits = 0;
  int64_t m = 0, n = 0, k = 0;
  double bitplane_us = 0, int8_us = 0;
};

/// Parses a table; returns "" or "path:line: what is wrong".
std::string parse_tuning(const std::string& path, std::vector<TuningEntry>& out);

/// The measured choice for a problem, or ABQ_PATH_AUTO when the table has no entry for the bits.
abq_path tuned_path(const std::vector<TuningEntry>& table, int64_t m, int64_t n, int64_t k, int w_bits, int x_bits);

/// The table in use (loaded once from ABQ_CPU_TUNE unless abq_cpu_load_tuning replaced it).
const std::vector<TuningEntry>& active_tuning(std::string& error);

}  // namespace abq::kernels::cpu

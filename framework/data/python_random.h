// PythonRandom: CPython's `random` module (MT19937, init_by_array seeding, getrandbits-based
// randrange), reproduced draw for draw so calibration and C4 windows match the Python references:
// GPTQ/OmniQuant/ABQ-LLM call `random.seed(seed)` then `random.randint(0, n - seqlen - 1)`.
// Checked against CPython 3 draws in tests/unit/data/python_random_test.cpp.
#pragma once

#include <cstdint>
#include <vector>

namespace abq::data {

class PythonRandom {
 public:
  /// random.seed(n) for a non-negative integer n (CPython seeds with abs(n) split in 32-bit words).
  explicit PythonRandom(uint64_t seed);
  /// random.getrandbits(k), 0 < k <= 64.
  uint64_t getrandbits(int k);
  /// random.randint(a, b), inclusive, a <= b.
  int64_t randint(int64_t a, int64_t b);
  /// random.random(): 53-bit float in [0, 1).
  double random();

 private:
  uint32_t next_u32();
  void init_genrand(uint32_t s);
  void init_by_array(const std::vector<uint32_t>& key);
  uint32_t mt_[624];
  int index_ = 625;
};

}  // namespace abq::data

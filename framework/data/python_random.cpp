#include "framework/data/python_random.h"

#include "framework/core/error.h"

namespace abq::data {

// Constants and recurrences are those of Matsumoto & Nishimura's mt19937ar.c, which CPython's
// _randommodule.c uses unchanged.
void PythonRandom::init_genrand(uint32_t s) {
  mt_[0] = s;
  for (int i = 1; i < 624; ++i) mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + uint32_t(i);
  index_ = 624;
}

void PythonRandom::init_by_array(const std::vector<uint32_t>& key) {
  init_genrand(19650218u);
  int i = 1, j = 0;
  const int n = 624, len = int(key.size());
  for (int k = (n > len ? n : len); k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + key[j] + uint32_t(j);
    ++i;
    ++j;
    if (i >= n) { mt_[0] = mt_[n - 1]; i = 1; }
    if (j >= len) j = 0;
  }
  for (int k = n - 1; k; --k) {
    mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - uint32_t(i);
    ++i;
    if (i >= n) { mt_[0] = mt_[n - 1]; i = 1; }
  }
  mt_[0] = 0x80000000u;
}

PythonRandom::PythonRandom(uint64_t seed) {
  // CPython: key = the 32-bit words of abs(seed), least significant first; seed 0 -> [0].
  std::vector<uint32_t> key;
  do {
    key.push_back(uint32_t(seed & 0xffffffffu));
    seed >>= 32;
  } while (seed);
  init_by_array(key);
}

uint32_t PythonRandom::next_u32() {
  static const uint32_t mag01[2] = {0u, 0x9908b0dfu};
  if (index_ >= 624) {
    int k = 0;
    for (; k < 624 - 397; ++k) {
      uint32_t y = (mt_[k] & 0x80000000u) | (mt_[k + 1] & 0x7fffffffu);
      mt_[k] = mt_[k + 397] ^ (y >> 1) ^ mag01[y & 1u];
    }
    for (; k < 623; ++k) {
      uint32_t y = (mt_[k] & 0x80000000u) | (mt_[k + 1] & 0x7fffffffu);
      mt_[k] = mt_[k + (397 - 624)] ^ (y >> 1) ^ mag01[y & 1u];
    }
    uint32_t y = (mt_[623] & 0x80000000u) | (mt_[0] & 0x7fffffffu);
    mt_[623] = mt_[396] ^ (y >> 1) ^ mag01[y & 1u];
    index_ = 0;
  }
  uint32_t y = mt_[index_++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= (y >> 18);
  return y;
}

uint64_t PythonRandom::getrandbits(int k) {
  ABQ_ASSERT(k > 0 && k <= 64, "getrandbits k=", k);
  if (k <= 32) return next_u32() >> (32 - k);
  // CPython fills 32-bit words from the least significant end; the last word keeps its top bits.
  uint64_t low = next_u32();
  uint64_t high = next_u32() >> (64 - k);
  return low | (high << 32);
}

int64_t PythonRandom::randint(int64_t a, int64_t b) {
  if (a > b) throw Error(cat("randint: empty range [", a, ", ", b, "]"));
  uint64_t n = uint64_t(b - a) + 1;
  int k = 0;
  for (uint64_t t = n; t; t >>= 1) ++k;  // n.bit_length()
  uint64_t r = getrandbits(k);
  while (r >= n) r = getrandbits(k);
  return a + int64_t(r);
}

double PythonRandom::random() {
  uint32_t a = next_u32() >> 5, b = next_u32() >> 6;
  return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

}  // namespace abq::data

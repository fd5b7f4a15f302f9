// Expected draws were produced by CPython 3.11:
//   random.seed(0); [random.randint(0, 100) for _ in range(5)]            -> [49, 97, 53, 5, 33]
//   random.seed(2); [random.randint(0, 300000-2048-1) for _ in range(5)]  -> [29649, 48016, 44497, 189298, 88648]
//   random.seed(0); random.random(), random.getrandbits(64)               -> 0.8444218515250481, 16422101724900707500
//   random.seed(2**40+5); [random.randint(0, 2**33) for _ in range(3)]    -> [3976222944, 3829167211, 710650538]
#include <gtest/gtest.h>

#include "framework/data/python_random.h"

using abq::data::PythonRandom;

TEST(PythonRandom, RandintSeed0) {
  PythonRandom r(0);
  std::vector<int64_t> got;
  for (int i = 0; i < 5; ++i) got.push_back(r.randint(0, 100));
  EXPECT_EQ(got, (std::vector<int64_t>{49, 97, 53, 5, 33}));
}

TEST(PythonRandom, CalibrationOffsetsSeed2) {
  PythonRandom r(2);
  std::vector<int64_t> got;
  for (int i = 0; i < 5; ++i) got.push_back(r.randint(0, 300000 - 2048 - 1));
  EXPECT_EQ(got, (std::vector<int64_t>{29649, 48016, 44497, 189298, 88648}));
}

TEST(PythonRandom, RandomAndWideBits) {
  PythonRandom r(0);
  EXPECT_DOUBLE_EQ(r.random(), 0.8444218515250481);
  EXPECT_EQ(r.getrandbits(64), 16422101724900707500ull);
}

TEST(PythonRandom, MultiWordSeedAndWideRange) {
  PythonRandom r((uint64_t(1) << 40) + 5);
  std::vector<int64_t> got;
  for (int i = 0; i < 3; ++i) got.push_back(r.randint(0, int64_t(1) << 33));
  EXPECT_EQ(got, (std::vector<int64_t>{3976222944, 3829167211, 710650538}));
}

// The stage cache (experiments/runner/stage_cache.h): windows round-trip exactly, a damaged or
// foreign entry is a miss, keys separate their parts. That a hit stores the same result as a miss
// is checked end to end in sweep_test.cpp (the sweep's runs share the cache; `abq run`, without
// one, is the reference).
#include "experiments/runner/stage_cache.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace abq::runner;

namespace {

TEST(StageCache, WindowsRoundTripAndDamagedEntriesAreMisses) {
  const std::vector<std::vector<int64_t>> windows = {{1, 2, 3}, {}, {int64_t(1) << 40, -7}};
  const std::string bytes = encode_windows(windows);
  EXPECT_EQ(decode_windows(bytes), windows);
  EXPECT_FALSE(decode_windows(bytes.substr(0, bytes.size() - 1)));  // truncated
  EXPECT_FALSE(decode_windows(bytes + "x"));                       // trailing bytes
  EXPECT_FALSE(decode_windows("not a cache entry"));
}

TEST(StageCache, KeysLengthPrefixTheirParts) {
  EXPECT_NE(cache_key({"ab", "c"}), cache_key({"a", "bc"}));
  EXPECT_EQ(cache_key({"a", "b"}), cache_key({"a", "b"}));
  EXPECT_EQ(cache_key({}).size(), 64u);
}

TEST(StageCache, PutThenGetAndADisabledCacheMisses) {
  const std::string dir = ::testing::TempDir() + "/abq_stage_cache";
  std::filesystem::remove_all(dir);
  StageCache cache(dir);
  EXPECT_FALSE(cache.get("calibration_windows", "k"));
  cache.put("calibration_windows", "k", "bytes");
  EXPECT_EQ(cache.get("calibration_windows", "k"), std::optional<std::string>("bytes"));
  StageCache off("");
  off.put("calibration_windows", "k", "bytes");
  EXPECT_FALSE(off.get("calibration_windows", "k"));
}

}  // namespace

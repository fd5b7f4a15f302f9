// The stage cache (framework/core/stage_cache.h). Expected values are by construction: a payload put
// is the payload got; the key is sha256 of the length-prefixed parts, recomputed here by hand from
// the documented encoding; a damaged entry (flipped payload byte, truncation, foreign file) is a
// miss, and a put repairs it.
#include "framework/core/stage_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "framework/core/sha256.h"

namespace {

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/abq_stage_cache_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(StageCache, KeyIsTheSha256OfTheLengthPrefixedParts) {
  EXPECT_EQ(abq::stage_key({"ab", "c"}), abq::sha256_hex("2:ab\n1:c\n"));
  EXPECT_NE(abq::stage_key({"ab", "c"}), abq::stage_key({"a", "bc"}));
  EXPECT_EQ(abq::stage_key({}).size(), 64u);
}

TEST(StageCache, PutThenGetReturnsThePayloadAndADisabledCacheMisses) {
  const std::string dir = fresh_dir("roundtrip");
  const abq::StageCache cache(dir);
  EXPECT_FALSE(cache.get("stats", "k"));
  const std::string payload("bytes\0with a zero", 17);
  cache.put("stats", "k", payload);
  EXPECT_EQ(cache.get("stats", "k"), std::optional<std::string>(payload));
  EXPECT_FALSE(cache.get("stats", "other"));
  EXPECT_FALSE(cache.get("chain", "k"));
  // No temporary file is left beside the entry.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);

  const abq::StageCache off("");
  off.put("stats", "k", payload);
  EXPECT_FALSE(off.get("stats", "k"));
}

TEST(StageCache, ADamagedEntryIsAMissAndAPutRepairsIt) {
  const abq::StageCache cache(fresh_dir("damaged"));
  const std::string payload = "activation statistics";
  cache.put("stats", "k", payload);
  const std::string file = cache.path("stats", "k");
  const std::string good = read_all(file);

  std::string flipped = good;
  flipped.back() ^= 0x01;  // one payload bit: same size, wrong digest
  write_all(file, flipped);
  EXPECT_FALSE(cache.get("stats", "k"));

  write_all(file, good.substr(0, good.size() - 3));  // truncated
  EXPECT_FALSE(cache.get("stats", "k"));

  write_all(file, "not a cache entry");
  EXPECT_FALSE(cache.get("stats", "k"));

  cache.put("stats", "k", payload);
  EXPECT_EQ(cache.get("stats", "k"), std::optional<std::string>(payload));
}

}  // namespace

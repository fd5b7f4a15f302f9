// Seeded byte-flip fuzzing of the store reader. A small store (two runs, every table kind) is
// written, then one byte at a random position is changed (XOR with a random non-zero value) per
// mutant, and the mutant is opened and read whole as `abq show` reads it. Allowed outcomes: a read
// equal to what was written, or an abq::Error naming the file; never a crash, a hang or another
// exception. Sealed stores (as written now) must report every flip as damage, and a write to a
// mutant must leave its bytes unchanged. Unsealed stores (as written before seals) are parsed by
// HDF5 in a child process only (unsealed_store.h); HDF5 cannot detect a changed string, so a
// different read is tallied there, not failed. A write to an unsealed mutant is refused with the
// file unchanged when its read was refused, and otherwise either refused so or done whole: the
// file is then sealed and holds what was read plus the new run. A child that HDF5 keeps busy past
// the time limit is killed, which ends that mutant's read as an error (tallied apart). Expected
// outcome: by construction (the property under test), not from a reference.
// ABQ_FUZZ_ITERS (default 300) sets the mutants per format, ABQ_FUZZ_SEED (default 20261203) the
// seed; the large run is `ABQ_FUZZ_ITERS=10000 store_test --gtest_filter='StoreFuzz.*'`.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <random>

#include "framework/core/error.h"
#include "framework/store/results_store.h"
#include "store_test_util.h"

namespace abq::store {
namespace {

using test_util::begin_attributes_of;
using test_util::kSealBytes;
using test_util::read_bytes;
using test_util::record_of;
using test_util::run_id_of;
using test_util::same_record;
using test_util::ScratchDir;
using test_util::write_bytes;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

struct Tally {
  int ran = 0, same = 0, different = 0, rejected = 0, timeouts = 0, writes_refused = 0, writes_done = 0;
  double slowest_ms = 0;
};

std::vector<RunRecord> expected_records() {
  RunRecord done = record_of(0, 3, 2);
  done.status = RunStatus::complete;
  RunRecord running = record_of(1, 0, 0);
  running.attributes = begin_attributes_of(1);
  running.metrics.clear();
  running.timings.clear();
  running.tables.clear();
  running.status = RunStatus::running;
  return {done, running};
}

std::string small_store(const ScratchDir& dir) {
  const std::string path = dir.file("seed.h5");
  ResultsStore store(path);
  store.begin_run(run_id_of(0), begin_attributes_of(0));
  store.finish_run(record_of(0, 3, 2));
  store.begin_run(run_id_of(1), begin_attributes_of(1));
  return read_bytes(path);
}

bool same_as_written(const std::vector<RunRecord>& read) {
  const auto expected = expected_records();
  if (read.size() != expected.size()) return false;
  for (size_t i = 0; i < read.size(); ++i) {
    if (!same_record(expected[i], read[i])) return false;
  }
  return true;
}

// Appends a run to the mutant at `path`. Refused: the file must be unchanged. Done (allowed only
// for an unsealed mutant that read as `read`): the file is sealed and reads as `read` plus the run.
void try_write(const std::string& path, const std::string& bytes, const std::optional<std::vector<RunRecord>>& read,
               Tally& tally) {
  try {
    ResultsStore(path).begin_run(run_id_of(5), {});
  } catch (const Error&) {
    ++tally.writes_refused;
    EXPECT_EQ(read_bytes(path), bytes) << "a refused write changed the store";
    return;
  }
  ++tally.writes_done;
  ASSERT_TRUE(read.has_value()) << "a write extended a store that could not be read";
  const std::string after = read_bytes(path);
  EXPECT_EQ(after.compare(after.size() - kSealBytes, 25, "abq-store-seal v1 sha256="), 0) << "the write did not seal it";
  const std::vector<RunRecord> now = ResultsStore(path, OpenMode::existing).read_all();
  ASSERT_EQ(now.size(), read->size() + 1);
  for (const RunRecord& old : *read) {
    auto it = std::find_if(now.begin(), now.end(), [&](const RunRecord& r) { return r.run_id == old.run_id; });
    ASSERT_NE(it, now.end()) << old.run_id;
    EXPECT_TRUE(same_record(old, *it) && old.attributes == it->attributes) << old.run_id;
  }
}

Tally fuzz(const std::string& seed_bytes, bool sealed, int iterations, unsigned seed) {
  ScratchDir dir;
  const std::string path = dir.file("mutant.h5");
  std::mt19937_64 rng(seed);
  Tally tally;
  for (int i = 0; i < iterations; ++i) {
    std::string bytes = seed_bytes;
    const size_t position = rng() % bytes.size();
    const auto flip = static_cast<unsigned char>(1 + rng() % 255);
    bytes[position] = static_cast<char>(static_cast<unsigned char>(bytes[position]) ^ flip);
    write_bytes(path, bytes);
    SCOPED_TRACE(cat("mutant ", i, ": byte ", position, " ^= ", int(flip)));
    const auto start = std::chrono::steady_clock::now();
    std::optional<std::vector<RunRecord>> read;
    try {
      ResultsStore store(path, OpenMode::existing);
      read = store.read_all();
      const bool same = same_as_written(*read);
      ++(same ? tally.same : tally.different);
      EXPECT_TRUE(!sealed || same) << "a sealed store read back changed data";
    } catch (const Error& e) {
      ++tally.rejected;
      const std::string message = e.what();
      tally.timeouts += message.find("did not finish parsing it within") != std::string::npos;
      EXPECT_NE(message.find("'" + path + "'"), std::string::npos) << message;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not an abq::Error: " << e.what();
    }
    if (i % 10 == 0) try_write(path, bytes, sealed ? std::nullopt : read, tally);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    tally.slowest_ms = std::max(tally.slowest_ms, ms);
    ++tally.ran;
    if (::testing::Test::HasFailure()) break;
  }
  return tally;
}

void report(const char* format, const Tally& t, unsigned seed) {
  std::cout << "[ fuzz     ] " << format << " store, seed " << seed << ": " << t.ran << " mutants, " << t.same
            << " read unchanged, " << t.different << " read changed, " << t.rejected << " rejected with an error ("
            << t.timeouts << " of them HDF5 loops stopped at the time limit), " << t.writes_refused << " writes refused, "
            << t.writes_done << " writes done and sealed, 0 crashes, 0 hangs (every mutant finished), slowest "
            << t.slowest_ms << " ms\n";
}

TEST(StoreFuzz, EveryByteFlipOfASealedStoreIsAClearError) {
  ScratchDir dir;
  const std::string seed_bytes = small_store(dir);
  const unsigned seed = static_cast<unsigned>(env_int("ABQ_FUZZ_SEED", 20261203));
  const Tally t = fuzz(seed_bytes, /*sealed=*/true, env_int("ABQ_FUZZ_ITERS", 300), seed);
  report("sealed", t, seed);
  EXPECT_EQ(t.rejected + t.same, t.ran);
  EXPECT_EQ(t.same, 0);  // every byte of a sealed store is covered by its seal
  EXPECT_EQ(t.writes_done, 0);
}

TEST(StoreFuzz, ByteFlipsOfAnUnsealedStoreNeverCrashTheReader) {
  ScratchDir dir;
  std::string seed_bytes = small_store(dir);
  seed_bytes.resize(seed_bytes.size() - kSealBytes);
  const unsigned seed = static_cast<unsigned>(env_int("ABQ_FUZZ_SEED", 20261203)) + 1;
  const Tally t = fuzz(seed_bytes, /*sealed=*/false, env_int("ABQ_FUZZ_ITERS", 300), seed);
  report("unsealed", t, seed);
  EXPECT_EQ(t.same + t.different + t.rejected, t.ran);
  EXPECT_GT(t.rejected, 0);
}

}  // namespace
}  // namespace abq::store

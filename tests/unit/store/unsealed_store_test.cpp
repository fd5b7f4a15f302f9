// Unsealed stores (written before seals existed, or edited by another HDF5 writer) are read by a
// child process only, and rebuilt in this process from the snapshot it sends back.
// Expected values: an unsealed store must read exactly as the same store sealed (the records the
// writer wrote, store_test_util.h); failures are the error texts written in parse_in_child.cpp,
// store_snapshot.cpp and store_seal.cpp; the damaged bytes are global-heap size fields (HDF5 file
// format specification, "Global Heap"), whose in-process crash the test shows first.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "framework/core/error.h"
#include "framework/store/parse_in_child.h"
#include "framework/store/results_store.h"
#include "framework/store/store_snapshot.h"
#include "framework/store/unsealed_store.h"
#include "store_test_util.h"

namespace abq::store {
namespace {

using test_util::begin_attributes_of;
using test_util::error_text;
using test_util::kSealBytes;
using test_util::read_bytes;
using test_util::record_of;
using test_util::run_id_of;
using test_util::same_record;
using test_util::ScratchDir;
using test_util::write_bytes;

bool is_sealed(const std::string& bytes) {
  return bytes.size() > kSealBytes && bytes.compare(bytes.size() - kSealBytes, 25, "abq-store-seal v1 sha256=") == 0;
}

std::string without_seal(const std::string& bytes) { return bytes.substr(0, bytes.size() - kSealBytes); }

// Three runs, one of each status, every table kind: returns the sealed store's bytes.
std::string three_run_store(const std::string& path) {
  ResultsStore store(path);
  store.begin_run(run_id_of(0), begin_attributes_of(0));
  store.finish_run(record_of(0, 4, 3));
  store.begin_run(run_id_of(1), begin_attributes_of(1));
  store.write_table(run_id_of(1), "examples", record_of(1).tables.at("examples"));
  store.begin_run(run_id_of(2), begin_attributes_of(2));
  store.fail_run(run_id_of(2), "calibration diverged");
  return read_bytes(path);
}

// Equal in everything, the attributes the store set itself included.
::testing::AssertionResult identical(const RunRecord& expected, const RunRecord& actual) {
  ::testing::AssertionResult same = same_record(expected, actual);
  if (!same) return same;
  if (expected.attributes != actual.attributes) return ::testing::AssertionFailure() << "attributes differ";
  return ::testing::AssertionSuccess();
}

TEST(UnsealedStore, ReadsExactlyAsTheSameStoreSealed) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  const std::string sealed = three_run_store(path);
  const ResultsStore reader(path, OpenMode::existing);
  const std::vector<RunRecord> expected = reader.read_all();
  ASSERT_EQ(expected.size(), 3u);
  write_bytes(path, without_seal(sealed));
  const std::vector<RunRecord> actual = reader.read_all();
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(identical(expected[i], actual[i]));
  EXPECT_EQ(reader.run_ids(), (std::vector<std::string>{run_id_of(0), run_id_of(1), run_id_of(2)}));
  EXPECT_EQ(reader.status(run_id_of(1)), RunStatus::running);
  EXPECT_EQ(reader.status(run_id_of(7)), std::nullopt);
  EXPECT_TRUE(identical(expected[2], reader.read_run(run_id_of(2))));
  EXPECT_EQ(read_bytes(path), without_seal(sealed)) << "a read changed the file";
}

TEST(UnsealedStore, EveryKindOfWriteKeepsEveryRunAndSealsTheStore) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  const std::string sealed = three_run_store(path);
  const std::vector<RunRecord> before = ResultsStore(path).read_all();
  using Write = std::function<void(ResultsStore&)>;
  const std::vector<std::pair<std::string, Write>> writes = {
      {"begin_run", [](ResultsStore& s) { s.begin_run(run_id_of(5), {}); }},
      {"finish_run", [](ResultsStore& s) {
         RunRecord done = record_of(1, 2, 2);
         s.finish_run(done);
       }},
      {"fail_run", [](ResultsStore& s) { s.fail_run(run_id_of(6), "out of memory"); }},
      {"write_records", [](ResultsStore& s) {
         s.write_records([](const std::vector<RunRecord>&) {
           RunRecord merged = record_of(8);
           merged.status = RunStatus::complete;
           return std::vector<RunRecord>{merged};
         });
       }}};
  for (const auto& [name, write] : writes) {
    SCOPED_TRACE(name);
    write_bytes(path, without_seal(sealed));
    ResultsStore store(path);
    write(store);
    EXPECT_TRUE(is_sealed(read_bytes(path)));
    const std::vector<RunRecord> after = store.read_all();
    ASSERT_EQ(after.size(), name == "finish_run" ? 3u : 4u);
    for (const RunRecord& old : before) {
      if (name == "finish_run" && old.run_id == run_id_of(1)) continue;
      auto it = std::find_if(after.begin(), after.end(), [&](const RunRecord& r) { return r.run_id == old.run_id; });
      ASSERT_NE(it, after.end()) << old.run_id;
      EXPECT_TRUE(identical(old, *it));
    }
  }
}

// The global heap holds the run attributes' strings, without a checksum. Its collection starts
// "GCOL", version, 3 reserved bytes, the collection size (8 bytes at +8); then each object: index
// (2), reference count (2), reserved (4), size (8 bytes at +24), data. HDF5 1.10 trusts both sizes
// (H5HG_read): a first object 2^31 bytes larger crashes it; a collection 128 bytes larger sends it
// into a loop. Returns "" when the store has no global heap.
std::string with_heap_byte_flipped(std::string hdf5, size_t offset, unsigned char flip) {
  const size_t heap = hdf5.find("GCOL");
  if (heap == std::string::npos || heap + offset >= hdf5.size()) return "";
  hdf5[heap + offset] = static_cast<char>(static_cast<unsigned char>(hdf5[heap + offset]) ^ flip);
  return hdf5;
}

TEST(UnsealedStore, AByteFlipThatCrashesHdf5IsAClearErrorNamingTheFile) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  const std::string damaged = with_heap_byte_flipped(without_seal(three_run_store(path)), 27, 0x80);
  ASSERT_FALSE(damaged.empty()) << "no global heap in the store";
  // What the child protects against: the same parse in this process dies.
  EXPECT_DEATH(read_store_snapshot(damaged), "");
  write_bytes(path, damaged);
  const std::string prefix = "results store '" + path + "' is damaged: it has no seal (it was written before abq "
                             "sealed its stores), and reading it failed: ";
  const std::string open_error = error_text([&] { ResultsStore reader(path, OpenMode::existing); });
  EXPECT_EQ(open_error, prefix + "HDF5 crashed parsing it (signal 11, Segmentation fault). abq neither reads nor "
                                 "extends a damaged store (it was left unchanged); restore it from a backup, or move "
                                 "it away and write the runs to a new store");
  const std::string write_error = error_text([&] { ResultsStore(path).begin_run(run_id_of(5), {}); });
  EXPECT_NE(write_error.find(prefix), std::string::npos) << write_error;
  EXPECT_EQ(read_bytes(path), damaged) << "a write changed a damaged store";
}

TEST(UnsealedStore, AByteFlipThatHangsHdf5EndsAtTheTimeLimitNamingTheFile) {
  ScratchDir dir;
  const std::string damaged = with_heap_byte_flipped(without_seal(three_run_store(dir.file("results.h5"))), 8, 0x80);
  ASSERT_FALSE(damaged.empty()) << "no global heap in the store";
  const auto start = std::chrono::steady_clock::now();
  const std::string message = error_text([&] { rebuild_unsealed_store(damaged, "old.h5", 1.0); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(message.rfind("results store 'old.h5' is damaged: it has no seal (it was written before abq sealed its "
                          "stores), and reading it failed: HDF5 did not finish parsing it within 1 s",
                          0),
            0u)
      << message;
  EXPECT_LT(seconds, 10.0);
}

TEST(UnsealedStore, BytesHdf5CannotParseAreAClearErrorNamingTheFile) {
  std::string garbage = "\x89HDF\r\n\x1a\n";
  garbage += std::string(600, '\x01');
  const std::string message = error_text([&] { rebuild_unsealed_store(garbage, "old.h5"); });
  EXPECT_EQ(message.rfind("results store 'old.h5' is damaged: it has no seal (it was written before abq sealed "
                          "its stores), and reading it failed: HDF5 cannot read it",
                          0),
            0u)
      << message;
}

TEST(ParseInChild, AChildKilledByASignalIsAnError) {
  const std::string message = error_text([] {
    parse_in_child([]() -> std::string {
      ::raise(SIGSEGV);
      return "unreachable";
    }, 10);
  });
  EXPECT_EQ(message, "HDF5 crashed parsing it (signal 11, Segmentation fault)");
}

TEST(ParseInChild, AChildThatRunsTooLongIsKilledAtTheLimit) {
  const auto start = std::chrono::steady_clock::now();
  const std::string message = error_text([] {
    parse_in_child([] {
      std::this_thread::sleep_for(std::chrono::seconds(20));
      return std::string("late");
    }, 0.2);
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(message, "HDF5 did not finish parsing it within 0.2 s");
  EXPECT_LT(seconds, 5.0);
}

TEST(ParseInChild, ReturnsTheAnswerOrTheChildsError) {
  const std::string big(1 << 20, 'x');  // larger than a pipe's buffer
  EXPECT_EQ(parse_in_child([&] { return big; }, 10), big);
  EXPECT_EQ(error_text([] { parse_in_child([]() -> std::string { throw Error("bad bytes"); }, 10); }), "bad bytes");
}

TEST(StoreSnapshot, RoundTripsAndRejectsEveryTruncation) {
  StoreSnapshot snapshot;
  snapshot.schema_version = 1;
  snapshot.root_attributes = {{"created_by", "abq 0.1"}};
  snapshot.has_runs_group = true;
  RunRecord run = record_of(3);
  run.status = RunStatus::complete;
  snapshot.runs = {run};
  snapshot.unreadable = {UnreadableRun{"r", std::string("running"), "its run 'r' is malformed (x)", "x"}};
  const std::string bytes = encode_snapshot(snapshot);
  const StoreSnapshot back = decode_snapshot(bytes);
  EXPECT_EQ(back.schema_version, 1);
  EXPECT_EQ(back.root_attributes, snapshot.root_attributes);
  ASSERT_EQ(back.runs.size(), 1u);
  EXPECT_TRUE(identical(run, back.runs[0]));
  ASSERT_EQ(back.unreadable.size(), 1u);
  EXPECT_EQ(back.unreadable[0].status, std::optional<std::string>("running"));
  EXPECT_EQ(back.unreadable[0].problem, "its run 'r' is malformed (x)");
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(error_text([&] { decode_snapshot(bytes.substr(0, n)); }).rfind("malformed store snapshot: ", 0), 0u)
        << n;
  }
  EXPECT_EQ(error_text([&] { decode_snapshot(bytes + "!"); }).rfind("malformed store snapshot: bytes follow", 0),
            0u);
}

}  // namespace
}  // namespace abq::store

// Damaged stores: a changed byte anywhere in a sealed store (HDF5 metadata, the global heap that
// holds variable-length strings, the seal itself) is reported as damage naming the file before
// HDF5 parses it, and no write touches a damaged store: its bytes stay exactly as they were. An
// unsealed store (as written before seals existed) is still read, must have every run readable
// before a write extends it, and is sealed by that write.
// Expected values: the records written (store_test_util.h) and the error texts of store_seal.cpp
// and results_store.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "framework/core/error.h"
#include "framework/store/hdf5_io.h"
#include "framework/store/results_store.h"
#include "store_test_util.h"

namespace abq::store {
namespace {

using test_util::begin_attributes_of;
using test_util::kSealBytes;
using test_util::error_text;
using test_util::read_bytes;
using test_util::record_of;
using test_util::run_id_of;
using test_util::same_record;
using test_util::ScratchDir;
using test_util::write_bytes;

void complete_run(ResultsStore& store, int index) {
  store.begin_run(run_id_of(index), begin_attributes_of(index));
  store.finish_run(record_of(index));
}

// Every kind of write, each of which must refuse the damaged store at `path` and leave it as is.
void expect_every_write_refused(const std::string& path, const std::string& bytes) {
  const std::vector<std::pair<std::string, std::function<void(ResultsStore&)>>> writes = {
      {"begin_run", [](ResultsStore& s) { s.begin_run(run_id_of(9), begin_attributes_of(9)); }},
      {"finish_run", [](ResultsStore& s) { s.finish_run(record_of(0)); }},
      {"fail_run", [](ResultsStore& s) { s.fail_run(run_id_of(9), "late failure"); }},
      {"write_table", [](ResultsStore& s) {
         Table t;
         t.add_i64("x", {1});
         s.write_table(run_id_of(1), "extra", t);
       }}};
  for (const auto& [name, write] : writes) {
    SCOPED_TRACE(name);
    const std::string message = error_text([&] {
      ResultsStore store(path);
      write(store);
    });
    EXPECT_NE(message.find("'" + path + "'"), std::string::npos) << message;
    EXPECT_NE(message, "(no error)");
    EXPECT_EQ(read_bytes(path), bytes);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  }
}

TEST(ResultsStoreDamage, AFlippedByteAnywhereIsReportedAndNeverWrittenOver) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  {
    ResultsStore store(path);
    complete_run(store, 0);
    store.begin_run(run_id_of(1), begin_attributes_of(1));
  }
  const std::string good = read_bytes(path);
  // A string value lives in HDF5's global heap (no checksum of its own): its text is findable.
  const size_t heap_string = good.find("sweep/0");
  ASSERT_NE(heap_string, std::string::npos);
  for (size_t position : {size_t(0), size_t(8), size_t(100), heap_string, good.size() / 2,
                          good.size() - kSealBytes - 1, good.size() - kSealBytes + 3, good.size() - 40,
                          good.size() - 1}) {
    SCOPED_TRACE("byte " + std::to_string(position));
    std::string bad = good;
    bad[position] ^= 0x20;
    write_bytes(path, bad);
    const std::string message = error_text([&] { ResultsStore(path, OpenMode::existing).read_all(); });
    EXPECT_EQ(message.rfind("results store '" + path + "' is damaged: ", 0) == 0 ||
                  message.rfind("opening results store '" + path + "'", 0) == 0,
              true)
        << message;
    expect_every_write_refused(path, bad);
  }
  write_bytes(path, good);
  EXPECT_EQ(ResultsStore(path).read_all().size(), 2u);
}

TEST(ResultsStoreDamage, DigestMismatchMessage) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  { ResultsStore store(path); }
  std::string bytes = read_bytes(path);
  const size_t length = bytes.size() - kSealBytes;
  bytes[length / 2] ^= 1;
  write_bytes(path, bytes);
  const std::string message = error_text([&] { ResultsStore store(path); });
  EXPECT_EQ(message.rfind("results store '" + path + "' is damaged: the sha256 of its " + std::to_string(length) +
                              " HDF5 bytes is ",
                          0),
            0u)
      << message;
  EXPECT_NE(message.find("abq neither reads nor extends a damaged store (it was left unchanged)"), std::string::npos);
}

// A store as written before seals existed: the same HDF5 bytes without the seal line.
std::string unsealed(const std::string& sealed) { return sealed.substr(0, sealed.size() - kSealBytes); }

TEST(ResultsStoreDamage, UnsealedStoreIsReadAndSealedByItsNextWrite) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  {
    ResultsStore store(path);
    complete_run(store, 0);
  }
  write_bytes(path, unsealed(read_bytes(path)));
  ResultsStore store(path);
  RunRecord expected = record_of(0);
  expected.status = RunStatus::complete;
  EXPECT_TRUE(same_record(expected, store.read_run(run_id_of(0))));
  complete_run(store, 1);
  const std::string after = read_bytes(path);
  EXPECT_EQ(after.compare(after.size() - kSealBytes, 25, "abq-store-seal v1 sha256="), 0);
  EXPECT_EQ(store.read_all().size(), 2u);
}

TEST(ResultsStoreDamage, MalformedRunInAnUnsealedStoreBlocksEveryWrite) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  {
    ResultsStore store(path);
    complete_run(store, 0);
    complete_run(store, 1);
  }
  // Edited by another HDF5 writer (which drops the seal): run 1 loses its status, and run 0's
  // metrics table loses a column.
  write_bytes(path, unsealed(read_bytes(path)));
  {
    H5::H5File file(path, H5F_ACC_RDWR);
    H5::Group run1 = file.openGroup("runs/" + run_id_of(1));
    run1.removeAttr("status");
  }
  const std::string bytes = read_bytes(path);
  const std::string message = error_text([&] { ResultsStore(path).begin_run(run_id_of(9), {}); });
  EXPECT_EQ(message, "beginning run 'run1009' in results store '" + path + "'\n  results store '" + path +
                         "' is damaged: its run 'run1001' is malformed (run 'run1001' has no 'status' "
                         "attribute). abq neither reads nor extends a damaged store (it was left unchanged); "
                         "restore it from a backup, or move it away and write the runs to a new store");
  expect_every_write_refused(path, bytes);
  // Reading the intact run still works.
  EXPECT_EQ(ResultsStore(path, OpenMode::existing).status(run_id_of(0)), RunStatus::complete);
}

TEST(ResultsStoreDamage, TableWithAWrongColumnInAnUnsealedStoreBlocksWrites) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  {
    ResultsStore store(path);
    complete_run(store, 0);
  }
  write_bytes(path, unsealed(read_bytes(path)));
  {
    H5::H5File file(path, H5F_ACC_RDWR);
    H5::Group run = file.openGroup("runs/" + run_id_of(0));
    run.unlink("metrics");
    Table wrong;
    wrong.add_strings("metric", {"ppl"}).add_f64("value", {1.0});
    h5::write_table(run, "metrics", wrong);
  }
  const std::string bytes = read_bytes(path);
  const std::string message = error_text([&] { ResultsStore(path).begin_run(run_id_of(9), {}); });
  EXPECT_NE(message.find("is damaged: its run 'run1000' is malformed (reading table 'metrics' of run 'run1000'"),
            std::string::npos)
      << message;
  expect_every_write_refused(path, bytes);
}

}  // namespace
}  // namespace abq::store

// ResultsStore: round trips of every table and attribute, resume semantics, reopening, and clear
// errors for files that are not (readable) abq stores. Expected values are the records written
// (store_test_util.h derives each from its index) and the error texts in results_store.cpp.
#include "framework/store/results_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <regex>

#include "framework/core/error.h"
#include "framework/store/hdf5_io.h"
#include "store_test_util.h"

namespace abq::store {
namespace {

using test_util::begin_attributes_of;
using test_util::error_text;
using test_util::read_bytes;
using test_util::record_of;
using test_util::run_id_of;
using test_util::same_record;
using test_util::ScratchDir;
using test_util::write_bytes;

RunRecord complete_run(ResultsStore& store, int index) {
  store.begin_run(run_id_of(index), begin_attributes_of(index));
  RunRecord record = record_of(index);
  store.finish_run(record);
  record.status = RunStatus::complete;
  return record;
}

TEST(ResultsStore, CreatesAnEmptyStoreWithSchemaAttributes) {
  ScratchDir dir;
  const std::string path = dir.file("nested/dir/results.h5");
  ResultsStore store(path);
  EXPECT_TRUE(store.run_ids().empty());
  EXPECT_TRUE(store.read_all().empty());
  H5::H5File file(path, H5F_ACC_RDONLY);
  EXPECT_EQ(h5::read_int_attr(file, "schema_version"), 1);
  EXPECT_EQ(h5::read_string_attr(file, "created_by").value_or("").rfind("abq ", 0), 0u);
  EXPECT_TRUE(file.nameExists("runs"));
}

TEST(ResultsStore, RoundTripsEveryTableAndAttribute) {
  ScratchDir dir;
  ResultsStore store(dir.file("results.h5"));
  const RunRecord expected = complete_run(store, 3);
  EXPECT_EQ(store.status(run_id_of(3)), RunStatus::complete);
  EXPECT_EQ(store.status("absent"), std::nullopt);

  RunRecord back = store.read_run(run_id_of(3));
  EXPECT_TRUE(same_record(expected, back));
  EXPECT_EQ(back.attributes.at("experiment"), "experiments/sweep.yaml");  // from begin_run
  EXPECT_EQ(back.attributes.count("status"), 0u);
  EXPECT_EQ(back.attributes.count("error"), 0u);
  for (const char* key : {"started", "finished"}) {
    EXPECT_TRUE(std::regex_match(back.attributes.at(key), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
        << back.attributes.at(key);
  }
  EXPECT_TRUE(std::isnan(back.metrics[0].stderr_value));

  // The fixed tables carry the documented column names in order (what h5py users see).
  H5::H5File file(store.path(), H5F_ACC_RDONLY);
  H5::Group run = file.openGroup("runs/" + run_id_of(3));
  const std::vector<std::pair<std::string, std::vector<schema::ColumnSpec>>> tables = {
      {"metrics", schema::metrics_columns()}, {"sites", schema::sites_columns()}, {"timings", schema::timings_columns()}};
  for (const auto& [name, spec] : tables) {
    H5::CompType type = run.openDataSet(name).getCompType();
    ASSERT_EQ(type.getNmembers(), static_cast<int>(spec.size())) << name;
    for (size_t i = 0; i < spec.size(); ++i) EXPECT_EQ(type.getMemberName(i), spec[i].name) << name;
  }
  EXPECT_EQ(run.openDataSet("sites").getSpace().getSimpleExtentNpoints(), 8);
}

TEST(ResultsStore, ReopenedStoreReadsEveryRun) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  std::vector<RunRecord> expected;
  {
    ResultsStore store(path);
    for (int i = 0; i < 3; ++i) expected.push_back(complete_run(store, i));
  }
  ResultsStore reopened(path);
  complete_run(reopened, 3);
  expected.push_back(record_of(3));
  expected.back().status = RunStatus::complete;
  EXPECT_EQ(reopened.run_ids(), (std::vector<std::string>{run_id_of(0), run_id_of(1), run_id_of(2), run_id_of(3)}));
  auto all = reopened.read_all();
  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_TRUE(same_record(expected[i], all[i]));
}

TEST(ResultsStore, ResumeSemanticsOfRunningFailedAndComplete) {
  ScratchDir dir;
  ResultsStore store(dir.file("results.h5"));
  const std::string id = run_id_of(1);

  store.begin_run(id, begin_attributes_of(1));
  EXPECT_EQ(store.status(id), RunStatus::running);
  Table partial;
  partial.add_i64("example", {7});
  store.write_table(id, "partial", partial);
  EXPECT_EQ(store.read_run(id).tables.count("partial"), 1u);

  // A running run (e.g. from a killed process) is replaced, tables included.
  store.begin_run(id, {{"name", "second attempt"}});
  RunRecord restarted = store.read_run(id);
  EXPECT_EQ(restarted.status, RunStatus::running);
  EXPECT_EQ(restarted.attributes.at("name"), "second attempt");
  EXPECT_EQ(restarted.attributes.count("config_hash"), 0u);
  EXPECT_TRUE(restarted.tables.empty());
  EXPECT_TRUE(restarted.metrics.empty());

  store.fail_run(id, "CUDA out of memory");
  RunRecord failed = store.read_run(id);
  EXPECT_EQ(failed.status, RunStatus::failed);
  EXPECT_EQ(failed.attributes.at("error"), "CUDA out of memory");
  EXPECT_EQ(error_text([&] { store.finish_run(record_of(1)); }),
            "finishing run 'run1001' in results store '" + store.path() +
                "'\n  run 'run1001' is failed; finish_run needs a running run (call begin_run first)");

  // A failed run is replaced too; finishing it clears the error.
  const RunRecord expected = complete_run(store, 1);
  RunRecord done = store.read_run(id);
  EXPECT_TRUE(same_record(expected, done));
  EXPECT_EQ(done.attributes.count("error"), 0u);

  const std::string before = read_bytes(store.path());
  EXPECT_EQ(error_text([&] { store.begin_run(id, {}); }),
            "beginning run 'run1001' in results store '" + store.path() +
                "'\n  run 'run1001' is already complete; a complete run is never replaced (skip it, or change "
                "the config so that it gets a new run id)");
  EXPECT_THROW(store.fail_run(id, "late failure"), Error);
  EXPECT_THROW(store.write_table(id, "late", partial), Error);
  EXPECT_EQ(read_bytes(store.path()), before);
  EXPECT_TRUE(same_record(expected, store.read_run(id)));
}

TEST(ResultsStore, FailRunWithoutBeginAndFinishWithoutBegin) {
  ScratchDir dir;
  ResultsStore store(dir.file("results.h5"));
  store.fail_run("early", "config did not validate");
  EXPECT_EQ(store.status("early"), RunStatus::failed);
  EXPECT_NE(error_text([&] { store.finish_run(record_of(5)); }).find("run 'run1005' is not in the store"),
            std::string::npos);
  EXPECT_EQ(store.status(run_id_of(5)), std::nullopt);
}

TEST(ResultsStore, RejectsReservedNames) {
  ScratchDir dir;
  ResultsStore store(dir.file("results.h5"));
  EXPECT_NE(error_text([&] { store.begin_run("a", {{"status", "complete"}}); }).find("is set by the store"),
            std::string::npos);
  EXPECT_EQ(store.status("a"), std::nullopt);
  EXPECT_EQ(error_text([&] { store.begin_run("a/b", {}); }),
            "invalid run id 'a/b': expected a non-empty name without '/'");
  store.begin_run("a", {});
  RunRecord record;
  record.run_id = "a";
  record.tables.emplace("metrics", Table());
  EXPECT_NE(error_text([&] { store.finish_run(record); }).find("extra table name 'metrics' is reserved"),
            std::string::npos);
  EXPECT_EQ(error_text([&] { store.read_run("zzz"); }),
            "reading run 'zzz' in results store '" + store.path() + "'\n  no run 'zzz'");
}

TEST(ResultsStore, GarbageFileGivesAClearErrorAndIsNotTouched) {
  ScratchDir dir;
  for (const std::string& bytes : {std::string("run,metric,value\nx,ppl,5.4\n"), std::string()}) {
    const std::string path = dir.file("results.h5");
    write_bytes(path, bytes);
    EXPECT_EQ(error_text([&] { ResultsStore store(path); }),
              "'" + path +
                  "' is not an HDF5 file (no HDF5 signature); expected an abq results store. Move it away or "
                  "choose another results path; abq never overwrites it");
    EXPECT_EQ(read_bytes(path), bytes);
  }
}

TEST(ResultsStore, DirectoryInPlaceOfTheFileGivesAClearError) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  std::filesystem::create_directory(path);
  const std::string message = error_text([&] { ResultsStore store(path); });
  EXPECT_EQ(message, "cannot read results store '" + path + "'\n  cannot read '" + path + "': Is a directory");
}

TEST(ResultsStore, ForeignHdf5FileIsNotAStore) {
  ScratchDir dir;
  const std::string path = dir.file("other.h5");
  { H5::H5File file(path, H5F_ACC_TRUNC); file.createGroup("data"); }
  const std::string before = read_bytes(path);
  EXPECT_EQ(error_text([&] { ResultsStore store(path); }),
            "'" + path + "' is an HDF5 file but not an abq results store: '/' has no 'schema_version' attribute");
  EXPECT_EQ(read_bytes(path), before);
}

TEST(ResultsStore, NewerSchemaVersionIsRefused) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  { ResultsStore store(path); }
  {
    H5::H5File file(path, H5F_ACC_RDWR);
    h5::write_int_attr(file, "schema_version", 2);
  }
  EXPECT_EQ(error_text([&] { ResultsStore store(path); }),
            "results store '" + path +
                "' has schema_version 2; this build of abq reads schema versions up to 1. Use a newer abq to "
                "read or extend it");
}

TEST(ResultsStore, CorruptedStoreErrorsNamingThePathAndIsNeverOverwritten) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  ResultsStore store(path);
  complete_run(store, 0);
  // Keep the signature but cut the file short: the metadata the superblock points at is gone.
  std::string bytes = read_bytes(path);
  bytes.resize(bytes.size() / 3);
  write_bytes(path, bytes);

  const std::string open_error = error_text([&] { ResultsStore again(path); });
  EXPECT_EQ(open_error.rfind("results store '" + path + "' is damaged: it has no seal", 0), 0u) << open_error;
  const std::string write_error = error_text([&] { store.begin_run(run_id_of(1), {}); });
  EXPECT_NE(write_error.find(path), std::string::npos) << write_error;
  EXPECT_NE(write_error, "(no error)");
  EXPECT_THROW(store.read_all(), Error);
  EXPECT_EQ(read_bytes(path), bytes);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(ResultsStore, ReadingAMissingStoreCreatesNothing) {
  ScratchDir dir;
  const std::string path = dir.file("typo/results.h5");
  EXPECT_EQ(error_text([&] { ResultsStore store(path, OpenMode::existing); }),
            "no results store '" + path + "': no such file. Check the path; reading a store never creates one");
  EXPECT_FALSE(std::filesystem::exists(dir.file("typo")));
  const std::string flat = dir.file("results.h5");
  EXPECT_THROW(ResultsStore(flat, OpenMode::existing), Error);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));  // no store, no lock file
  { ResultsStore created(flat); }
  EXPECT_TRUE(ResultsStore(flat, OpenMode::existing).run_ids().empty());
}

TEST(ResultsStore, ASymlinkedStoreStaysALinkAndItsTargetIsWritten) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.file("data"));
  std::filesystem::create_directories(dir.file("links"));
  const std::string target = dir.file("data/results.h5");
  const std::string link = dir.file("links/results.h5");
  std::filesystem::create_symlink("../data/results.h5", link);  // relative, and dangling until created
  {
    ResultsStore store(link);
    EXPECT_EQ(store.path(), link);
    EXPECT_EQ(store.file_path(), dir.file("links/../data/results.h5"));
    complete_run(store, 0);
  }
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::symlink_status(target)));
  EXPECT_TRUE(std::filesystem::exists(target + ".lock"));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(link + ".lock")));
  ResultsStore via_link(link);
  complete_run(via_link, 1);
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(ResultsStore(target).run_ids(), (std::vector<std::string>{run_id_of(0), run_id_of(1)}));
  // A link to a missing file, opened for reading: the error names both.
  const std::string dangling = dir.file("links/gone.h5");
  std::filesystem::create_symlink("../data/gone.h5", dangling);
  EXPECT_EQ(error_text([&] { ResultsStore store(dangling, OpenMode::existing); }),
            "no results store '" + dangling + "' (a link to '" + dir.file("links/../data/gone.h5") +
                "'): no such file. Check the path; reading a store never creates one");
}

TEST(ResultsStore, StringsThatAreNotUtf8AreRefusedNamingTheField) {
  ScratchDir dir;
  ResultsStore store(dir.file("results.h5"));
  const std::string before = read_bytes(store.path());
  EXPECT_EQ(error_text([&] { store.begin_run("a", {{"name", "caf\xe9"}}); }),
            "beginning run 'a' in results store '" + store.path() +
                "'\n  the value of attribute 'name' is not valid UTF-8: byte 0xe9 at offset 3; results store "
                "strings are UTF-8 (Python readers decode them), so fix the source text or re-encode it as UTF-8");
  EXPECT_EQ(read_bytes(store.path()), before);
  store.begin_run("a", {{"name", "caf\xc3\xa9"}});  // the same word in UTF-8
  RunRecord record;
  record.run_id = "a";
  Table examples;
  examples.add_strings("answer", {"fine", "bad \xff"});
  record.tables.emplace("examples", examples);
  EXPECT_NE(error_text([&] { store.finish_run(record); })
                .find("table 'examples' column 'answer' row 1 is not valid UTF-8: byte 0xff at offset 4"),
            std::string::npos);
  EXPECT_EQ(store.status("a"), RunStatus::running);
  // A failure message may quote damaged input: it is stored, escaped.
  store.fail_run("a", "bad token '\xff\xfe' in tokenizer.json");
  EXPECT_EQ(store.read_run("a").attributes.at("error"), "bad token '\\xff\\xfe' in tokenizer.json");
}

TEST(ResultsStore, ConcurrentWritersInSeveralProcessesAllLand) {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  { ResultsStore store(path); }
  constexpr int kWriters = 3, kRunsEach = 4;
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        ResultsStore store(path);
        for (int r = 0; r < kRunsEach; ++r) {
          const int index = w * kRunsEach + r;
          store.begin_run(run_id_of(index), begin_attributes_of(index));
          store.finish_run(record_of(index));
        }
      } catch (...) {
        code = 1;
      }
      _exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  ResultsStore store(path);
  auto all = store.read_all();
  ASSERT_EQ(all.size(), size_t(kWriters * kRunsEach));
  for (int i = 0; i < kWriters * kRunsEach; ++i) {
    RunRecord expected = record_of(i);
    expected.status = RunStatus::complete;
    EXPECT_TRUE(same_record(expected, all[i]));
  }
}

}  // namespace
}  // namespace abq::store

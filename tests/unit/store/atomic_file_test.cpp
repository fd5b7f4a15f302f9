// atomic_file: replacement is all-or-nothing and the writer lock times out with a clear message.
// Expected values are the bytes written by each step.
#include "framework/store/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "framework/core/error.h"
#include "store_test_util.h"

namespace abq::store {
namespace {

using test_util::read_bytes;
using test_util::ScratchDir;
using test_util::write_bytes;

TEST(AtomicFile, ReplacesWithTheEditedCopyAndLeavesNoTempFile) {
  ScratchDir dir;
  const std::string path = dir.file("f");
  write_bytes(path, "old");
  replace_file_atomically(path, [](const std::string& temp) {
    EXPECT_EQ(read_bytes(temp), "old");
    write_bytes(temp, "new contents");
  });
  EXPECT_EQ(read_bytes(path), "new contents");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(AtomicFile, CreatesAMissingFileAndIgnoresAStaleTemp) {
  ScratchDir dir;
  const std::string path = dir.file("f");
  write_bytes(path + ".tmp", "left over by a killed writer");
  replace_file_atomically(path, [](const std::string& temp) {
    EXPECT_FALSE(std::filesystem::exists(temp));
    write_bytes(temp, "fresh");
  });
  EXPECT_EQ(read_bytes(path), "fresh");
}

TEST(AtomicFile, FailedEditLeavesTheOriginalUntouched) {
  ScratchDir dir;
  const std::string path = dir.file("f");
  write_bytes(path, "keep me");
  EXPECT_THROW(replace_file_atomically(path,
                                       [](const std::string& temp) {
                                         write_bytes(temp, "half written");
                                         throw Error("edit failed");
                                       }),
               Error);
  EXPECT_EQ(read_bytes(path), "keep me");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(AtomicFile, LockTimesOutWhileAnotherHolderHasIt) {
  ScratchDir dir;
  const std::string lock_path = dir.file("f.lock");
  {
    FileLock first(lock_path, 1.0);
    try {
      FileLock second(lock_path, 0.05);  // a separate open file description: flock conflicts
      FAIL() << "expected a timeout";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("another process is writing (lock file '" + lock_path + "' held"),
                std::string::npos)
          << e.what();
    }
  }
  FileLock again(lock_path, 0.05);  // released with the first holder
}

}  // namespace
}  // namespace abq::store

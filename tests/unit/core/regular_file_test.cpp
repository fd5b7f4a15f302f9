// Input files that are not regular files (a FIFO, a directory) are refused at once instead of
// blocking. Expected values: the file types the test creates itself (mkfifo, mkdir); the text
// is pinned. A call that blocks is killed at the deadline and reported as "blocked".
#include "framework/core/regular_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/core/sha256.h"
#include "tests/support/run_with_deadline.h"

namespace abq {
namespace {

namespace fs = std::filesystem;

std::string make_fifo(const std::string& name) {
  const std::string path = ::testing::TempDir() + "abq_core_" + name + "_" + std::to_string(::getpid());
  fs::remove(path);
  EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0) << path;
  return path;
}

TEST(RegularFile, FileTypesAreNamed) {
  const std::string fifo = make_fifo("types");
  const std::string file = fifo + ".txt";
  std::ofstream(file) << "x";
  EXPECT_EQ(file_type_name(fifo), "a FIFO");
  EXPECT_EQ(file_type_name(file), "a regular file");
  EXPECT_EQ(file_type_name(::testing::TempDir()), "a directory");
  EXPECT_EQ(file_type_name(fifo + ".missing"), "missing");
  EXPECT_EQ(file_type_name("/dev/null"), "a character device");
  EXPECT_NO_THROW(require_regular_file(file, "data"));
  EXPECT_NO_THROW(require_directory(::testing::TempDir(), "folder"));
  try {
    require_regular_file(::testing::TempDir(), "model.path");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "model.path '" + ::testing::TempDir() + "' is a directory; expected a regular file");
  }
  try {
    require_directory(fifo, "model.path");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "model.path '" + fifo + "' is a FIFO; expected a directory");
  }
  fs::remove(fifo);
  fs::remove(file);
}

TEST(RegularFile, OpeningAFifoFailsAtOnce) {
  const std::string fifo = make_fifo("open");
  EXPECT_EQ(test::run_with_deadline([&] { ::close(open_regular_file(fifo)); }, 5),
            "error: '" + fifo + "' is a FIFO; expected a regular file");
  const std::string file = fifo + ".txt";
  std::ofstream(file) << "abc";
  const int fd = open_regular_file(file);
  char buf[4] = {};
  EXPECT_EQ(::read(fd, buf, sizeof buf), 3);  // O_NONBLOCK does not change how a regular file reads
  EXPECT_EQ(std::string(buf), "abc");
  ::close(fd);
  fs::remove(fifo);
  fs::remove(file);
}

// Without the check, fopen() of a FIFO with no writer blocks forever.
TEST(RegularFile, Sha256OfAFifoFailsAtOnce) {
  const std::string fifo = make_fifo("sha");
  EXPECT_EQ(test::run_with_deadline([&] { sha256_file(fifo); }, 5),
            "error: while computing a sha256\n  '" + fifo + "' is a FIFO; expected a regular file");
  EXPECT_EQ(test::run_with_deadline([&] { sha256_file("/dev/zero"); }, 5),
            "error: while computing a sha256\n  '/dev/zero' is a character device; expected a regular file");
  fs::remove(fifo);
}

}  // namespace
}  // namespace abq

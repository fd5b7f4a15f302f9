// MappedFile tests. Expected values: the bytes written by the test itself; resident page counts
// from the kernel's own accounting (/proc/self/smaps "Rss:" of the mapping); the FIFO the test
// makes with mkfifo, which every reader must refuse at once.
#include "framework/io/mapped_file.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "framework/core/error.h"
#include "framework/io/hf_config.h"
#include "framework/io/safetensors.h"
#include "tests/support/run_with_deadline.h"
#include "tests/unit/io/gguf_writer.h"

namespace abq::io {
namespace {

using namespace abq::io::testing;

TEST(MappedFile, MapsBytesAndMoves) {
  write_file(temp_path("mapped.bin"), {1, 2, 3, 250});
  MappedFile f = MappedFile::open(temp_path("mapped.bin"));
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f.data()[3], 250);
  MappedFile g = std::move(f);
  EXPECT_EQ(f.data(), nullptr);
  EXPECT_EQ(f.size(), 0u);
  EXPECT_EQ(g.data()[0], 1);
  EXPECT_EQ(g.path(), temp_path("mapped.bin"));
}

TEST(MappedFile, EmptyFileAndErrors) {
  write_file(temp_path("empty.bin"), {});
  MappedFile e = MappedFile::open(temp_path("empty.bin"));
  EXPECT_EQ(e.size(), 0u);
  EXPECT_EQ(e.data(), nullptr);
  try {
    MappedFile::open(temp_path("missing.bin"));
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.message(), "cannot open '" + temp_path("missing.bin") + "': No such file or directory");
  }
  EXPECT_THROW(MappedFile::open(::testing::TempDir()), Error);  // a directory
}

// Without O_NONBLOCK, open(2) of a FIFO with no writer blocks forever: a GGUF `--model` on a FIFO
// would hang the run.
TEST(MappedFile, FifoFailsAtOnceInsteadOfBlocking) {
  const std::string fifo = temp_path("fifo_" + std::to_string(::getpid()) + ".gguf");
  std::remove(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(test::run_with_deadline([&] { MappedFile::open(fifo); }, 5),
            "error: '" + fifo + "' is a FIFO; expected a regular file");
  EXPECT_EQ(test::run_with_deadline([&] { llama_config_from_hf(fifo); }, 5),
            "error: model config '" + fifo + "' is a FIFO; expected a regular file");
  EXPECT_EQ(test::run_with_deadline([&] { SafetensorsCheckpoint::open(fifo); }, 5),
            "error: while opening safetensors checkpoint " + fifo + "\n  '" + fifo +
                "' is a FIFO; expected a regular file");
  std::remove(fifo.c_str());
}

// Resident bytes of the mapping that contains `addr`, as the kernel reports them.
size_t mapping_rss_bytes(const void* addr) {
  std::ifstream smaps("/proc/self/smaps");
  const auto a = reinterpret_cast<uintptr_t>(addr);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= a && a < end;
    } else if (inside && line.rfind("Rss:", 0) == 0) {
      return std::stoull(line.substr(4)) * 1024;  // "Rss:   12 kB"
    }
  }
  return SIZE_MAX;
}

TEST(MappedFile, ReleasePagesDropsResidentPagesAndKeepsBytes) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<uint8_t> bytes(64 * page);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  write_file(temp_path("release.bin"), bytes);
  MappedFile f = MappedFile::open(temp_path("release.bin"));
  uint64_t sum = 0;
  for (size_t i = 0; i < f.size(); i += page) sum += f.data()[i];  // touch every page
  EXPECT_GT(sum, 0u);
  EXPECT_EQ(mapping_rss_bytes(f.data()), 64 * page);
  // Bytes [10.5 pages, 30.5 pages) widen to whole pages 10..30: 21 pages go.
  f.release_pages(10 * page + page / 2, 20 * page);
  EXPECT_EQ(mapping_rss_bytes(f.data()), 43 * page);
  for (size_t i = 0; i < bytes.size(); ++i) ASSERT_EQ(f.data()[i], bytes[i]) << "byte " << i;  // paged back in
  f.release_pages(0, f.size());
  EXPECT_EQ(mapping_rss_bytes(f.data()), 0u);
  f.release_pages(f.size(), 0);  // empty range at the end: nothing to do
  try {
    f.release_pages(60 * page, 5 * page);
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.message(), "'" + temp_path("release.bin") + "': cannot release bytes [" + std::to_string(60 * page) +
                                 ", " + std::to_string(65 * page) + ") of a " + std::to_string(64 * page) +
                                 "-byte mapping");
  }
}

}  // namespace
}  // namespace abq::io

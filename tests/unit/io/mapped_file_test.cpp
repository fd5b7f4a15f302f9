// MappedFile tests. Expected values: the bytes written by the test itself.
#include "framework/io/mapped_file.h"

#include <gtest/gtest.h>

#include "framework/core/error.h"
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

}  // namespace
}  // namespace abq::io

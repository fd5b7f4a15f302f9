// hdf5_io: tables and attributes written through the generic path read back identically through
// the plain HDF5 C++ API, with the on-disk types a Python reader relies on (vlen UTF-8 strings,
// IEEE f64, 64/32-bit integers). Expected values are the written inputs.
#include "framework/store/hdf5_io.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "framework/core/error.h"

#include "store_test_util.h"

namespace abq::store {
namespace {

using test_util::ScratchDir;

TEST(Hdf5Io, TableRoundTripsEveryColumnTypeWithStandardOnDiskTypes) {
  ScratchDir dir;
  const std::string path = dir.file("t.h5");
  Table t;
  t.add_strings("text", {"", "ünïcode ✓", std::string(300, 'x')})
      .add_f64("value", {-0.0, NAN, 1e300})
      .add_i64("big", {int64_t(1) << 62, -1, 0})
      .add_i32("small", {-7, 0, 2147483647});
  {
    H5::H5File file(path, H5F_ACC_TRUNC);
    H5::Group root = file.openGroup("/");
    h5::write_table(root, "records", t);
    h5::write_table(root, "records", t);  // replacing an existing table is allowed
  }
  H5::H5File file(path, H5F_ACC_RDONLY);
  H5::DataSet dataset = file.openDataSet("records");
  H5::CompType type = dataset.getCompType();
  ASSERT_EQ(type.getNmembers(), 4);
  EXPECT_TRUE(type.getMemberStrType(0).isVariableStr());
  EXPECT_EQ(type.getMemberStrType(0).getCset(), H5T_CSET_UTF8);
  EXPECT_EQ(type.getMemberFloatType(1).getSize(), 8u);
  EXPECT_EQ(type.getMemberIntType(2).getSize(), 8u);
  EXPECT_EQ(type.getMemberIntType(3).getSize(), 4u);

  Table back = h5::read_table(file.openGroup("/"), "records");
  ASSERT_EQ(back.rows(), 3u);
  EXPECT_EQ(back.strings("text"), t.strings("text"));
  EXPECT_TRUE(std::signbit(back.f64("value")[0]));
  EXPECT_TRUE(std::isnan(back.f64("value")[1]));
  EXPECT_EQ(back.f64("value")[2], 1e300);
  EXPECT_EQ(back.i64("big"), t.i64("big"));
  EXPECT_EQ(back.i32("small"), t.i32("small"));
}

TEST(Hdf5Io, EmptyTableKeepsItsColumns) {
  ScratchDir dir;
  const std::string path = dir.file("t.h5");
  Table t;
  t.add_strings("metric", {}).add_f64("value", {});
  {
    H5::H5File file(path, H5F_ACC_TRUNC);
    H5::Group root = file.openGroup("/");
    h5::write_table(root, "metrics", t);
  }
  H5::H5File file(path, H5F_ACC_RDONLY);
  Table back = h5::read_table(file.openGroup("/"), "metrics");
  EXPECT_EQ(back.rows(), 0u);
  ASSERT_EQ(back.columns().size(), 2u);
  EXPECT_EQ(back.columns()[1].type(), ColumnType::f64);
}

TEST(Hdf5Io, ReadsFixedLengthStringsWrittenByOtherTools) {
  ScratchDir dir;
  const std::string path = dir.file("t.h5");
  {
    // The layout pandas/h5py produce for a numpy 'S8' field next to an f4 field.
    struct Row {
      char name[8];
      float x;
    } rows[2] = {{"abc", 1.5f}, {"", -2.0f}};
    std::memcpy(rows[1].name, "abcdefgh", 8);  // full width: no terminating NUL in the file
    H5::CompType type(sizeof(Row));
    type.insertMember("name", HOFFSET(Row, name), H5::StrType(H5::PredType::C_S1, 8));
    type.insertMember("x", HOFFSET(Row, x), H5::PredType::NATIVE_FLOAT);
    H5::H5File file(path, H5F_ACC_TRUNC);
    hsize_t dims[1] = {2};
    file.createDataSet("rows", type, H5::DataSpace(1, dims)).write(rows, type);
  }
  H5::H5File file(path, H5F_ACC_RDONLY);
  Table back = h5::read_table(file.openGroup("/"), "rows");
  EXPECT_EQ(back.strings("name"), (std::vector<std::string>{"abc", "abcdefgh"}));
  EXPECT_EQ(back.f64("x"), (std::vector<double>{1.5, -2.0}));
}

TEST(Hdf5Io, StringAndIntegerAttributesRoundTrip) {
  ScratchDir dir;
  const std::string path = dir.file("t.h5");
  const std::string yaml = "model:\n  path: /models/x\n" + std::string(100000, '#');  // > 64 KiB header limit
  {
    H5::H5File file(path, H5F_ACC_TRUNC);
    h5::write_int_attr(file, "schema_version", 1);
    h5::write_string_attr(file, "config_yaml", "old");
    h5::write_string_attr(file, "config_yaml", yaml);
  }
  H5::H5File file(path, H5F_ACC_RDONLY);
  EXPECT_EQ(h5::read_int_attr(file, "schema_version"), 1);
  EXPECT_EQ(h5::read_string_attr(file, "config_yaml"), yaml);
  EXPECT_EQ(h5::read_string_attr(file, "missing"), std::nullopt);
  auto all = h5::read_attrs_as_strings(file);
  EXPECT_EQ(all.at("schema_version"), "1");
  EXPECT_EQ(all.at("config_yaml"), yaml);
  H5::Attribute attr = file.openAttribute("config_yaml");
  EXPECT_TRUE(attr.getStrType().isVariableStr());
  EXPECT_EQ(attr.getStrType().getCset(), H5T_CSET_UTF8);
}

TEST(Hdf5Io, HdfErrorCarriesTheInnermostLibraryMessage) {
  ScratchDir dir;
  const std::string path = dir.file("t.h5");
  { H5::H5File file(path, H5F_ACC_TRUNC); }
  std::lock_guard<std::recursive_mutex> guard(h5::hdf5_mutex());
  h5::install_error_handler();
  H5::H5File file(path, H5F_ACC_RDONLY);
  try {
    file.openGroup("no_such_group");
    FAIL() << "expected an HDF5 exception";
  } catch (const H5::Exception& e) {
    const std::string message = h5::hdf5_error("opening group", e).what();
    EXPECT_EQ(message.rfind("opening group: HDF5: ", 0), 0u) << message;
    EXPECT_NE(message.find("not found"), std::string::npos) << message;
  }
}

// RFC 3629 cases: what must pass and where the first refused byte is.
TEST(Hdf5Io, CheckUtf8AcceptsWellFormedTextAndNamesTheFirstBadByte) {
  auto offset_of_error = [](const std::string& text) -> std::string {
    try {
      h5::check_utf8(text, "x");
    } catch (const Error& e) {
      return e.message().substr(0, e.message().find(';'));
    }
    return "ok";
  };
  for (const std::string good : {"", "plain", "\xc3\xa9", "\xe2\x9c\x93", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_EQ(offset_of_error(good), "ok") << good;
  }
  EXPECT_EQ(offset_of_error("ab\xff"), "x is not valid UTF-8: byte 0xff at offset 2");
  EXPECT_EQ(offset_of_error("\xc0\xaf"), "x is not valid UTF-8: byte 0xc0 at offset 0");      // overlong '/'
  EXPECT_EQ(offset_of_error("\xe0\x80\xaf"), "x is not valid UTF-8: byte 0xe0 at offset 0");  // overlong
  EXPECT_EQ(offset_of_error("\xed\xa0\x80"), "x is not valid UTF-8: byte 0xed at offset 0");  // surrogate
  EXPECT_EQ(offset_of_error("\xf4\x90\x80\x80"), "x is not valid UTF-8: byte 0xf4 at offset 0");  // > U+10FFFF
  EXPECT_EQ(offset_of_error("ok\xe2\x9c"), "x is not valid UTF-8: byte 0xe2 at offset 2");  // cut short
  EXPECT_EQ(offset_of_error(std::string("a\0b", 3)), "x is not valid UTF-8: a NUL byte at offset 1");
  EXPECT_EQ(h5::escape_invalid_utf8("a\xff" "b\xc3\xa9\xe2"), "a\\xff" "b\xc3\xa9\\xe2");
}

TEST(Hdf5Io, InvalidUtf8IsRefusedBeforeTheFileIsTouched) {
  ScratchDir dir;
  const std::string path = dir.file("t.h5");
  H5::H5File file(path, H5F_ACC_TRUNC);
  H5::Group root = file.openGroup("/");
  Table t;
  t.add_strings("text", {"fine", "bad\x80"});
  try {
    h5::write_table(root, "records", t);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.message().substr(0, e.message().find(';')),
              "table 'records' column 'text' row 1 is not valid UTF-8: byte 0x80 at offset 3");
  }
  EXPECT_FALSE(root.nameExists("records"));
  EXPECT_THROW(h5::write_string_attr(root, "note", "\xfe"), Error);
  EXPECT_FALSE(root.attrExists("note"));
}

}  // namespace
}  // namespace abq::store

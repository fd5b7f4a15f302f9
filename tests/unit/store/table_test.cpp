// Table: column bookkeeping and the error texts for misuse. Expected values are the inputs
// themselves (a container test); error texts are pinned as written in table.cpp.
#include "framework/store/table.h"

#include <gtest/gtest.h>

#include "framework/core/error.h"

namespace abq::store {
namespace {

TEST(Table, KeepsColumnsInInsertionOrderWithTheirTypes) {
  Table t;
  t.add_strings("name", {"a", "b"}).add_f64("x", {0.5, 1.5}).add_i64("n", {1, 2}).add_i32("bits", {4, 8});
  ASSERT_EQ(t.rows(), 2u);
  ASSERT_EQ(t.columns().size(), 4u);
  EXPECT_EQ(t.columns()[0].name, "name");
  EXPECT_EQ(t.columns()[3].type(), ColumnType::i32);
  EXPECT_EQ(t.strings("name")[1], "b");
  EXPECT_EQ(t.f64("x")[0], 0.5);
  EXPECT_EQ(t.i64("n")[1], 2);
  EXPECT_EQ(t.i32("bits")[1], 8);
  EXPECT_EQ(t.find("missing"), nullptr);
}

TEST(Table, RejectsLengthMismatchDuplicatesAndWrongTypes) {
  Table t;
  t.add_f64("x", {1, 2, 3});
  try {
    t.add_i64("n", {1});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "table column 'n' has 1 rows; expected 3 like column 'x'");
  }
  EXPECT_THROW(t.add_f64("x", {1, 2, 3}), Error);
  EXPECT_THROW(t.add_f64("", {1, 2, 3}), Error);
  try {
    t.i64("x");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "table column 'x' has type f64; expected i64");
  }
  try {
    t.strings("y");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "table has no column 'y' (columns: x)");
  }
}

}  // namespace
}  // namespace abq::store

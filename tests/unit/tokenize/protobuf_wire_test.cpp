// WireReader: expected values are hand-encoded from the protobuf encoding guide
// (protobuf.dev/programming-guides/encoding): 150 = 96 01, 300 = AC 02, int32 -1 = ten bytes
// FF..FF 01, tag = field << 3 | wire type, float 1.5f = 0x3FC00000 little-endian.
#include <gtest/gtest.h>

#include <string>

#include "framework/core/error.h"
#include "framework/tokenize/protobuf_wire.h"

namespace abq::tokenize {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::string error_of(const std::string& data) {
  try {
    WireReader reader(data, "x.model");
    WireField f;
    while (reader.next(f)) {
      if (f.type == WireType::kLengthDelimited) {
        WireReader inner = reader.nested(f);
        WireField g;
        while (inner.next(g)) {}
      }
    }
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ProtobufWire, ReadsEachWireType) {
  // field 1 varint 150; field 2 "hi"; field 3 fixed32 1.5f; field 4 fixed64; field 5 varint 300;
  // field 6 int32 -1 (sign-extended, ten bytes)
  const std::string data =
      bytes({0x08, 0x96, 0x01, 0x12, 0x02, 'h', 'i', 0x1D, 0x00, 0x00, 0xC0, 0x3F, 0x21, 1, 2, 3, 4, 5, 6, 7, 8,
             0x28, 0xAC, 0x02, 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  WireReader reader(data, "x.model");
  WireField f;
  ASSERT_TRUE(reader.next(f));
  EXPECT_EQ(f.number, 1u);
  EXPECT_EQ(reader.as_int32(f, "a"), 150);
  ASSERT_TRUE(reader.next(f));
  EXPECT_EQ(reader.as_bytes(f, "b"), "hi");
  EXPECT_EQ(f.payload_offset, 5u);
  ASSERT_TRUE(reader.next(f));
  EXPECT_EQ(reader.as_float(f, "c"), 1.5f);
  ASSERT_TRUE(reader.next(f));
  EXPECT_EQ(f.type, WireType::kFixed64);
  EXPECT_EQ(f.fixed64, 0x0807060504030201ull);
  ASSERT_TRUE(reader.next(f));
  EXPECT_EQ(reader.as_int32(f, "e"), 300);
  EXPECT_EQ(f.offset, 21u);
  ASSERT_TRUE(reader.next(f));
  EXPECT_EQ(reader.as_int32(f, "f"), -1);
  EXPECT_FALSE(reader.next(f));
}

TEST(ProtobufWire, NestedOffsetsAreAbsolute) {
  // field 1 = message { field 2 = varint 7 }, after a 2-byte field 9
  const std::string data = bytes({0x48, 0x01, 0x0A, 0x02, 0x10, 0x07});
  WireReader reader(data, "x.model");
  WireField f;
  ASSERT_TRUE(reader.next(f));
  ASSERT_TRUE(reader.next(f));
  WireReader inner = reader.nested(f);
  WireField g;
  ASSERT_TRUE(inner.next(g));
  EXPECT_EQ(g.offset, 4u);
  EXPECT_EQ(inner.as_int32(g, "x"), 7);
}

TEST(ProtobufWire, CorruptionNamesFileAndOffset) {
  EXPECT_EQ(error_of(bytes({0x08, 0x96})), "'x.model' is not a valid protobuf message at byte offset 1: varint runs past the end of the data");
  EXPECT_EQ(error_of(bytes({0x08, 0x01, 0x12, 0x05, 'a'})),
            "'x.model' is not a valid protobuf message at byte offset 2: field 2 (length-delimited) needs 5 bytes "
            "but only 1 remain");
  EXPECT_EQ(error_of(bytes({0x1D, 0x00, 0x00})),
            "'x.model' is not a valid protobuf message at byte offset 0: field 3 (fixed32) needs 4 bytes but only 2 remain");
  EXPECT_EQ(error_of(bytes({0x0B})),
            "'x.model' is not a valid protobuf message at byte offset 0: field 1 has wire type 3; expected 0, 1, 2 or 5");
  EXPECT_EQ(error_of(bytes({0x00})), "'x.model' is not a valid protobuf message at byte offset 0: field number 0 is invalid");
  // truncation inside a nested message reports the absolute offset (3 = 1 byte into the payload)
  EXPECT_EQ(error_of(bytes({0x0A, 0x02, 0x08, 0x80})),
            "'x.model' is not a valid protobuf message at byte offset 3: varint runs past the end of the data");
  EXPECT_NE(error_of(std::string(11, '\xFF')).find("varint is longer than 10 bytes"), std::string::npos);
  WireReader reader(bytes({0x08, 0x01}), "x.model");
  WireField f;
  ASSERT_TRUE(reader.next(f));
  try {
    reader.as_bytes(f, "SentencePiece.piece");
    FAIL() << "expected abq::Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "'x.model' is not a valid protobuf message at byte offset 0: field 1 "
                                     "(SentencePiece.piece) has wire type 0; expected 2");
  }
}

}  // namespace
}  // namespace abq::tokenize

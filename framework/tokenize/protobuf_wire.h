// Minimal reader for the protobuf wire format (protobuf.dev/programming-guides/encoding): just
// enough to read a sentencepiece `tokenizer.model` without linking libprotobuf, whose second copy
// in a process that also loads LibTorch's libprotobuf crashes during static initialisation.
// Every read is bounds-checked; corruption throws abq::Error naming the origin and byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace abq::tokenize {

enum class WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

/// One field of a message. Only the member matching `type` is meaningful.
struct WireField {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t varint = 0;      // kVarint (int32 enums/ids come sign-extended to 64 bits)
  uint32_t fixed32 = 0;     // kFixed32 (float bits)
  uint64_t fixed64 = 0;     // kFixed64
  std::string_view bytes;   // kLengthDelimited: a string, bytes or a nested message
  size_t offset = 0;        // absolute byte offset of the field's tag in the origin
  size_t payload_offset = 0;  // absolute byte offset of `bytes`
};

class WireReader {
 public:
  /// `origin` names the file in error messages; `base_offset` is where `data` starts in it.
  WireReader(std::string_view data, std::string origin, size_t base_offset = 0);

  /// Reads the next field; false at the end of the message. Groups (wire types 3, 4) are rejected.
  bool next(WireField& field);

  /// A reader over a nested message held by `field` (which must be length-delimited).
  WireReader nested(const WireField& field) const;

  // Typed views of a field; each throws abq::Error (naming `what`) on a wire-type mismatch.
  std::string_view as_bytes(const WireField& field, const char* what) const;
  float as_float(const WireField& field, const char* what) const;
  int32_t as_int32(const WireField& field, const char* what) const;
  bool as_bool(const WireField& field, const char* what) const;

  const std::string& origin() const { return origin_; }

 private:
  uint64_t read_varint();
  [[noreturn]] void fail(size_t at, const std::string& what) const;
  void expect_type(const WireField& field, WireType type, const char* what) const;

  std::string_view data_;
  std::string origin_;
  size_t base_ = 0;
  size_t pos_ = 0;
};

}  // namespace abq::tokenize

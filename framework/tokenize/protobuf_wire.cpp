#include "framework/tokenize/protobuf_wire.h"

#include <cstring>

#include "framework/core/error.h"

namespace abq::tokenize {

WireReader::WireReader(std::string_view data, std::string origin, size_t base_offset)
    : data_(data), origin_(std::move(origin)), base_(base_offset) {}

void WireReader::fail(size_t at, const std::string& what) const {
  throw Error(cat("'", origin_, "' is not a valid protobuf message at byte offset ", base_ + at, ": ", what));
}

uint64_t WireReader::read_varint() {
  const size_t start = pos_;
  uint64_t value = 0;
  // At most 10 bytes of 7 bits each (64 bits); the high bit says another byte follows.
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= data_.size()) fail(start, "varint runs past the end of the data");
    const auto byte = static_cast<unsigned char>(data_[pos_++]);
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  fail(start, "varint is longer than 10 bytes");
}

bool WireReader::next(WireField& field) {
  if (pos_ >= data_.size()) return false;
  field = WireField{};
  field.offset = base_ + pos_;
  const size_t tag_at = pos_;
  const uint64_t tag = read_varint();
  field.number = static_cast<uint32_t>(tag >> 3);
  if (field.number == 0 || (tag >> 3) > 0x1FFFFFFF) fail(tag_at, cat("field number ", tag >> 3, " is invalid"));
  const auto type = static_cast<uint32_t>(tag & 7);
  auto need = [&](uint64_t n, const char* kind) {
    if (n > data_.size() - pos_) {
      fail(tag_at, cat("field ", field.number, " (", kind, ") needs ", n, " bytes but only ",
                       data_.size() - pos_, " remain"));
    }
  };
  switch (type) {
    case 0:
      field.type = WireType::kVarint;
      field.varint = read_varint();
      break;
    case 1:
      field.type = WireType::kFixed64;
      need(8, "fixed64");
      std::memcpy(&field.fixed64, data_.data() + pos_, 8);  // little-endian on every supported host
      pos_ += 8;
      break;
    case 2: {
      field.type = WireType::kLengthDelimited;
      const uint64_t length = read_varint();
      need(length, "length-delimited");
      field.payload_offset = base_ + pos_;
      field.bytes = data_.substr(pos_, static_cast<size_t>(length));
      pos_ += static_cast<size_t>(length);
      break;
    }
    case 5:
      field.type = WireType::kFixed32;
      need(4, "fixed32");
      std::memcpy(&field.fixed32, data_.data() + pos_, 4);
      pos_ += 4;
      break;
    default:
      fail(tag_at, cat("field ", field.number, " has wire type ", type, "; expected 0, 1, 2 or 5"));
  }
  return true;
}

WireReader WireReader::nested(const WireField& field) const {
  expect_type(field, WireType::kLengthDelimited, "nested message");
  return WireReader(field.bytes, origin_, field.payload_offset);
}

void WireReader::expect_type(const WireField& field, WireType type, const char* what) const {
  if (field.type != type) {
    throw Error(cat("'", origin_, "' is not a valid protobuf message at byte offset ", field.offset, ": field ",
                    field.number, " (", what, ") has wire type ", static_cast<uint32_t>(field.type),
                    "; expected ", static_cast<uint32_t>(type)));
  }
}

std::string_view WireReader::as_bytes(const WireField& field, const char* what) const {
  expect_type(field, WireType::kLengthDelimited, what);
  return field.bytes;
}

float WireReader::as_float(const WireField& field, const char* what) const {
  expect_type(field, WireType::kFixed32, what);
  float value;
  std::memcpy(&value, &field.fixed32, 4);
  return value;
}

int32_t WireReader::as_int32(const WireField& field, const char* what) const {
  expect_type(field, WireType::kVarint, what);
  return static_cast<int32_t>(static_cast<uint32_t>(field.varint));  // int32: low 32 bits, two's complement
}

bool WireReader::as_bool(const WireField& field, const char* what) const {
  expect_type(field, WireType::kVarint, what);
  return field.varint != 0;
}

}  // namespace abq::tokenize

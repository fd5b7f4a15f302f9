#include "framework/store/store_seal.h"

#include <cstdio>
#include <cstring>

#include "framework/core/error.h"
#include "framework/core/sha256.h"

namespace abq::store {
namespace {

constexpr const char kMagic[] = "abq-store-seal v1 sha256=";
constexpr size_t kMagicSize = sizeof(kMagic) - 1;
constexpr size_t kDigestSize = 64;
constexpr const char kBytesKey[] = " bytes=";
constexpr size_t kBytesKeySize = sizeof(kBytesKey) - 1;
constexpr size_t kLengthDigits = 20;
constexpr size_t kSealSize = kMagicSize + kDigestSize + kBytesKeySize + kLengthDigits + 1;

std::string seal_line(const std::string& digest, size_t length) {
  char digits[kLengthDigits + 1];
  std::snprintf(digits, sizeof(digits), "%020zu", length);
  return cat(kMagic, digest, kBytesKey, digits, "\n");
}

// Bytes of the last kSealSize of `bytes` that differ from what a seal holds there (fixed text,
// hex digits, decimal digits): 0 for a well-formed seal, a few for a damaged one, about kSealSize
// for the end of an unsealed HDF5 file.
size_t seal_shape_mismatches(const std::string& bytes) {
  const char* tail = bytes.data() + bytes.size() - kSealSize;
  const std::string shape = seal_line(std::string(kDigestSize, 'h'), 0);
  size_t mismatches = 0;
  for (size_t i = 0; i < kSealSize; ++i) {
    const char c = tail[i];
    const bool digest = i >= kMagicSize && i < kMagicSize + kDigestSize;
    const bool length = i >= kMagicSize + kDigestSize + kBytesKeySize && i < kSealSize - 1;
    if (digest) {
      mismatches += !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    } else if (length) {
      mismatches += !(c >= '0' && c <= '9');
    } else {
      mismatches += c != shape[i];
    }
  }
  return mismatches;
}

}  // namespace

Error damaged_store_error(const std::string& display_path, const std::string& what) {
  return Error(cat("results store '", display_path, "' is damaged: ", what,
                   ". abq neither reads nor extends a damaged store (it was left unchanged); restore it from a ",
                   "backup, or move it away and write the runs to a new store"));
}

std::string seal_store_bytes(const std::string& hdf5) { return hdf5 + seal_line(sha256_hex(hdf5), hdf5.size()); }

UnsealedBytes unseal_store_bytes(std::string bytes, const std::string& display_path) {
  UnsealedBytes out;
  if (bytes.size() < kSealSize || seal_shape_mismatches(bytes) > kSealSize / 4) {
    out.hdf5 = std::move(bytes);  // no seal: a store written before seals existed
    return out;
  }
  const size_t length = bytes.size() - kSealSize;
  const std::string seal = bytes.substr(length);
  const std::string recorded = seal.substr(kMagicSize, kDigestSize);
  // The line must be exactly what seal_line would write for these bytes: any other byte in it is
  // damage too (and a digest comparison alone would let a damaged length field through).
  Sha256 digest;
  digest.update(bytes.data(), length);
  const std::string actual = digest.hex_digest();
  const std::string expected_seal = seal_line(recorded, length);
  if (seal != expected_seal) {
    throw damaged_store_error(display_path, cat("its seal (the last ", kSealSize, " bytes) is malformed or records another ",
                                    "length than the ", length, " bytes before it"));
  }
  if (recorded != actual) {
    throw damaged_store_error(display_path, cat("the sha256 of its ", length, " HDF5 bytes is ", actual, " but its seal records ",
                                    recorded, " (the file was changed outside abq, or the storage corrupted it)"));
  }
  bytes.resize(length);
  out.hdf5 = std::move(bytes);
  out.sealed = true;
  return out;
}

}  // namespace abq::store

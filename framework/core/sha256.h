// SHA-256 (FIPS 180-4) for provenance: file digests of models, tokenizers and data, config hashes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace abq {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(const std::string& text) { update(text.data(), text.size()); }
  /// Lower-case hex digest (64 chars). The object must not be updated afterwards.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);
  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string sha256_hex(const std::string& text);

/// Digest of a file's bytes; throws abq::Error naming the path when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace abq

// MappedFile: a read-only memory map of one whole file, unmapped when the object dies.
// Readers (gguf, safetensors) parse straight out of the mapping, so a 70B checkpoint never has to
// be copied into RAM; the OS pages in only the tensors that are actually touched. Pages once touched
// stay counted in the process's resident set until release_pages() gives them back (streamed
// models do so after each decoder block, so RSS does not grow with depth).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace abq::io {

class MappedFile {
 public:
  /// Maps `path` read-only. Throws abq::Error naming the path and the OS reason on failure.
  /// An empty file maps to data() == nullptr, size() == 0.
  static MappedFile open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  /// Drops this process's pages of bytes [offset, offset + length), widened to whole pages
  /// (madvise MADV_DONTNEED). The mapping stays valid: a later read pages the bytes back in from
  /// the file, so neighbours sharing an edge page lose nothing. Throws abq::Error naming the file
  /// and range for a range outside the file or an OS refusal.
  void release_pages(size_t offset, size_t length) const;

 private:
  void release() noexcept;

  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace abq::io

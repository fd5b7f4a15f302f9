// An HDF5 file held in memory (HDF5's core driver, no backing store), opened from the bytes of a
// store file or created empty. The store parses and edits only such images and writes their bytes
// itself (atomic_file.h): HDF5 never does disk I/O for the store, so a full disk or an I/O error
// surfaces as one clear write error of ours and never as a failed H5Fclose, which HDF5 1.10
// cannot recover from (closing the same file again crashes inside the library).
#pragma once

#include <H5Cpp.h>

#include <optional>
#include <string>

namespace abq::store::h5 {

class MemoryFile {
 public:
  /// Opens a copy of `image` (read-only unless `writable`). Throws H5::Exception when HDF5 cannot
  /// parse it (callers wrap it with the store's path).
  static MemoryFile open(const std::string& image, bool writable);
  /// A new, empty, writable file.
  static MemoryFile create();

  MemoryFile(MemoryFile&& other) noexcept;
  MemoryFile& operator=(MemoryFile&&) = delete;
  MemoryFile(const MemoryFile&) = delete;
  ~MemoryFile();

  H5::H5File& file() { return *file_; }
  const H5::H5File& file() const { return *file_; }

  /// The bytes of the file as it is now (flushes first): exactly HDF5's end of allocation.
  std::string image();

 private:
  explicit MemoryFile(hid_t id);
  void release() noexcept;

  hid_t id_ = H5I_INVALID_HID;         // our own reference, closed exactly once
  std::optional<H5::H5File> file_;     // a second reference for the C++ API
};

}  // namespace abq::store::h5

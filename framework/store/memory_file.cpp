#include "framework/store/memory_file.h"

#include <atomic>

#include "framework/core/error.h"

namespace abq::store::h5 {
namespace {

// HDF5 treats two open core-driver files with the same name as one file, so every image gets a
// name of its own; names under /dev/null can never exist on disk, as the core driver requires
// when it is handed an image.
std::string unique_name() {
  static std::atomic<unsigned long> counter{0};
  return "/dev/null/abq-results-store-image-" + std::to_string(counter++);
}

// Core driver, nothing written back to disk; HDF5's own file locking off (there is no file).
hid_t memory_access() {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) throw H5::PropListIException("MemoryFile", "H5Pcreate failed");
  if (H5Pset_fapl_core(fapl, 64 * 1024, false) < 0) {
    H5Pclose(fapl);
    throw H5::PropListIException("MemoryFile", "H5Pset_fapl_core failed");
  }
#if H5_VERSION_GE(1, 10, 7)
  H5Pset_file_locking(fapl, false, true);
#endif
  return fapl;
}

}  // namespace

MemoryFile::MemoryFile(hid_t id) : id_(id) {
  try {
    file_.emplace(id_);  // takes a reference of its own
  } catch (...) {
    release();
    throw;
  }
}

MemoryFile::MemoryFile(MemoryFile&& other) noexcept : id_(other.id_), file_(std::move(other.file_)) {
  other.id_ = H5I_INVALID_HID;
  other.file_.reset();
}

MemoryFile MemoryFile::open(const std::string& image, bool writable) {
  if (image.empty()) throw H5::FileIException("MemoryFile::open", "empty file image");
  hid_t fapl = memory_access();
  // HDF5 copies the buffer, so the const_cast never leads to a write into `image`.
  herr_t set = H5Pset_file_image(fapl, const_cast<char*>(image.data()), image.size());
  hid_t id = set < 0 ? H5I_INVALID_HID
                     : H5Fopen(unique_name().c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  if (id < 0) throw H5::FileIException("MemoryFile::open", "H5Fopen of the file image failed");
  return MemoryFile(id);
}

MemoryFile MemoryFile::create() {
  hid_t fapl = memory_access();
  hid_t id = H5Fcreate(unique_name().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (id < 0) throw H5::FileIException("MemoryFile::create", "H5Fcreate failed");
  return MemoryFile(id);
}

std::string MemoryFile::image() {
  if (H5Fflush(id_, H5F_SCOPE_GLOBAL) < 0) throw H5::FileIException("MemoryFile::image", "H5Fflush failed");
  const ssize_t size = H5Fget_file_image(id_, nullptr, 0);
  if (size < 0) throw H5::FileIException("MemoryFile::image", "H5Fget_file_image failed");
  std::string bytes(static_cast<size_t>(size), '\0');
  if (H5Fget_file_image(id_, bytes.data(), bytes.size()) != size) {
    throw H5::FileIException("MemoryFile::image", "H5Fget_file_image failed");
  }
  return bytes;
}

void MemoryFile::release() noexcept {
  file_.reset();  // drops the C++ API's reference; never the last one
  if (id_ >= 0) {
    // Exactly once, whatever it returns: a file HDF5 failed to close must not be closed again.
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    H5Fclose(id);
  }
}

MemoryFile::~MemoryFile() { release(); }

}  // namespace abq::store::h5

#include "framework/io/mapped_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "framework/core/error.h"
#include "framework/core/regular_file.h"

namespace abq::io {

MappedFile MappedFile::open(const std::string& path) {
  const int fd = open_regular_file(path);  // never blocks on a FIFO; refuses directories and devices
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw Error(cat("cannot stat '", path, "': ", std::strerror(err)));
  }
  MappedFile file;
  file.path_ = path;
  file.size_ = static_cast<size_t>(st.st_size);
  if (file.size_ > 0) {
    void* p = ::mmap(nullptr, file.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      throw Error(cat("cannot mmap '", path, "' (", file.size_, " bytes): ", std::strerror(err)));
    }
    file.data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);  // the mapping keeps its own reference to the file
  return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)), data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release_pages(size_t offset, size_t length) const {
  if (offset > size_ || length > size_ - offset)
    throw Error(cat("'", path_, "': cannot release bytes [", offset, ", ", offset + length, ") of a ", size_,
                    "-byte mapping"));
  if (length == 0) return;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t begin = offset / page * page;  // the mapping itself starts page-aligned
  const size_t end = std::min(size_, (offset + length + page - 1) / page * page);
  auto* start = const_cast<uint8_t*>(data_) + begin;
  if (::madvise(start, end - begin, MADV_DONTNEED) != 0)
    throw Error(cat("'", path_, "': madvise(MADV_DONTNEED) of bytes [", begin, ", ", end, ") failed: ",
                    std::strerror(errno)));
}

void MappedFile::release() noexcept {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace abq::io

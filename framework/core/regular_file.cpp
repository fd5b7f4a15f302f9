#include "framework/core/regular_file.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "framework/core/error.h"

namespace abq {
namespace {

std::string type_of_mode(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

}  // namespace

std::string file_type_name(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return type_of_mode(st.st_mode);
}

void require_regular_file(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw Error(cat(what, " '", path, "' cannot be read: ", std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    throw Error(cat(what, " '", path, "' is ", type_of_mode(st.st_mode), "; expected a regular file"));
}

void require_directory(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw Error(cat(what, " '", path, "' cannot be read: ", std::strerror(errno)));
  if (!S_ISDIR(st.st_mode))
    throw Error(cat(what, " '", path, "' is ", type_of_mode(st.st_mode), "; expected a directory"));
}

int open_regular_file(const std::string& path) {
  // O_NONBLOCK only matters for FIFOs and devices; regular files read the same with it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw Error(cat("cannot open '", path, "': ", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(cat("cannot stat '", path, "': ", std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(cat("'", path, "' is ", type_of_mode(st.st_mode), "; expected a regular file"));
  }
  return fd;
}

}  // namespace abq

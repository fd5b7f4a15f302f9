#include "framework/store/atomic_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "framework/core/error.h"

namespace abq::store {
namespace {

std::string errno_text() { return std::strerror(errno); }

std::string parent_directory(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Closes a descriptor on scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(cat("cannot write '", path, "': ", errno_text()));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void copy_file(const std::string& from, const std::string& to) {
  Fd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) throw Error(cat("cannot open '", from, "' for reading: ", errno_text()));
  struct stat info {};
  if (::fstat(in.fd, &info) != 0) throw Error(cat("cannot stat '", from, "': ", errno_text()));
  Fd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, info.st_mode & 0777)};
  if (out.fd < 0) throw Error(cat("cannot create '", to, "': ", errno_text()));
  std::vector<char> buffer(1 << 20);
  while (true) {
    const ssize_t n = ::read(in.fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(cat("cannot read '", from, "': ", errno_text()));
    }
    if (n == 0) break;
    write_all(out.fd, buffer.data(), static_cast<size_t>(n), to);
  }
}

void fsync_path(const std::string& path, int flags) {
  Fd fd{::open(path.c_str(), flags | O_CLOEXEC)};
  if (fd.fd < 0) throw Error(cat("cannot open '", path, "' to sync it: ", errno_text()));
  if (::fsync(fd.fd) != 0) throw Error(cat("cannot fsync '", path, "': ", errno_text()));
}

// fsyncs the folder holding `path`. Syncing the folder makes a rename survive a power loss too;
// some file systems refuse to fsync a directory, and reporting that as a failed write would
// mislead the caller about a change that has happened, so it is best effort.
void sync_parent_directory(const std::string& path) {
  Fd dir{::open(parent_directory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd >= 0) ::fsync(dir.fd);
}

}  // namespace

FileLock::FileLock(const std::string& lock_path, double timeout_seconds) {
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(cat("cannot open lock file '", lock_path, "': ", errno_text()));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK) {
      ::close(fd_);
      throw Error(cat("cannot lock '", lock_path, "': ", std::strerror(err)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd_);
      throw Error(cat("another process is writing (lock file '", lock_path, "' held for more than ",
                      timeout_seconds, " s); wait for it to finish, or give each process its own ",
                      "store file and merge them afterwards"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

void replace_file_atomically(const std::string& path, const std::function<void(const std::string&)>& edit) {
  const std::string temp_path = path + ".tmp";
  try {
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0) {
      copy_file(path, temp_path);
    } else if (errno == ENOENT) {
      if (::unlink(temp_path.c_str()) != 0 && errno != ENOENT) {
        throw Error(cat("cannot remove stale '", temp_path, "': ", errno_text()));
      }
    } else {
      throw Error(cat("cannot stat '", path, "': ", errno_text()));
    }
    edit(temp_path);
    fsync_path(temp_path, O_RDONLY);
    if (::rename(temp_path.c_str(), path.c_str()) != 0) {
      throw Error(cat("cannot rename '", temp_path, "' to '", path, "': ", errno_text()));
    }
  } catch (...) {
    ::unlink(temp_path.c_str());
    throw;
  }
  sync_parent_directory(path);
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string temp_path = path + ".tmp";
  try {
    mode_t mode = 0644;
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0) {
      mode = info.st_mode & 0777;
    } else if (errno != ENOENT) {
      throw Error(cat("cannot stat '", path, "': ", errno_text()));
    }
    {
      Fd out{::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)};
      if (out.fd < 0) throw Error(cat("cannot create '", temp_path, "': ", errno_text()));
      write_all(out.fd, bytes.data(), bytes.size(), temp_path);
      // A full disk may only show at fsync (delayed allocation) or close (network file systems).
      if (::fsync(out.fd) != 0) throw Error(cat("cannot fsync '", temp_path, "': ", errno_text()));
      const int fd = out.fd;
      out.fd = -1;
      if (::close(fd) != 0) throw Error(cat("cannot close '", temp_path, "': ", errno_text()));
    }
    if (::rename(temp_path.c_str(), path.c_str()) != 0) {
      throw Error(cat("cannot rename '", temp_path, "' to '", path, "': ", errno_text()));
    }
  } catch (...) {
    ::unlink(temp_path.c_str());
    throw;
  }
  sync_parent_directory(path);
}

std::string read_whole_file(const std::string& path) {
  Fd in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) throw Error(cat("cannot open '", path, "' for reading: ", errno_text()));
  std::string bytes;
  std::vector<char> buffer(1 << 20);
  while (true) {
    const ssize_t n = ::read(in.fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(cat("cannot read '", path, "': ", errno_text()));
    }
    if (n == 0) break;
    bytes.append(buffer.data(), static_cast<size_t>(n));
  }
  return bytes;
}

std::string resolve_symlinks(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path current = path;
  for (int hops = 0; hops < 40; ++hops) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(current, ec))) return current.string();
    fs::path target = fs::read_symlink(current, ec);
    if (ec) throw Error(cat("cannot read the symbolic link '", current.string(), "': ", ec.message()));
    current = target.is_absolute() ? target : current.parent_path() / target;
  }
  throw Error(cat("'", path, "' is a chain of more than 40 symbolic links (a loop?)"));
}

}  // namespace abq::store

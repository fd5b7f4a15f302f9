// Crash-safe replacement of a whole file, and the writer lock that serialises it.
//
// HDF5 updates files in place and a killed writer can leave them unreadable, so the store never
// modifies its file: under an exclusive flock on `<path>.lock` it copies the file to `<path>.tmp`,
// edits the copy, fsyncs it, rename()s it over `<path>` and fsyncs the directory. rename() is
// atomic, so at every instant `<path>` is either the old or the new complete file; a writer killed
// at any point leaves at worst a stale `<path>.tmp`, which the next writer truncates. Readers need
// no lock: an open descriptor keeps reading the file it opened.
#pragma once

#include <functional>
#include <string>

namespace abq::store {

/// Exclusive advisory lock (flock) on a lock file, held for the object's lifetime. The kernel
/// releases it when the process dies, so a SIGKILLed writer never blocks the next one.
class FileLock {
 public:
  /// Waits up to `timeout_seconds` for the lock, then throws abq::Error naming the lock file.
  FileLock(const std::string& lock_path, double timeout_seconds);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

/// Replaces `path` atomically with the result of `edit(temp_path)`. When `path` exists its bytes
/// are copied to temp_path first; otherwise temp_path starts absent and `edit` creates it. The
/// caller must hold the FileLock for `path`. If `edit` throws, temp_path is removed, `path` is
/// untouched and the exception propagates.
void replace_file_atomically(const std::string& path, const std::function<void(const std::string&)>& edit);

/// Replaces `path` atomically by `bytes` (written to `<path>.tmp`, fsynced, renamed over `path`),
/// keeping the permission bits of an existing `path`. The caller must hold the FileLock for `path`.
/// When a write fails (a full disk, an I/O error), temp_path is removed, `path` is untouched and
/// abq::Error names the file and the failed call.
void write_file_atomically(const std::string& path, const std::string& bytes);

/// The whole contents of `path`; abq::Error naming `path` and the failed call when it cannot be read.
std::string read_whole_file(const std::string& path);

/// The file `path` finally names after following symbolic links (at most 40, relative links from
/// the link's own folder); `path` itself when it is no link. The target need not exist yet.
/// rename() replaces a link, not its target, so writers must resolve first.
std::string resolve_symlinks(const std::string& path);

}  // namespace abq::store

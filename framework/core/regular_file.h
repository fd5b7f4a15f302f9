// Opening input files without blocking: a FIFO, socket or device given where a file is expected
// (`--model /tmp/fifo`) would otherwise block open(2) or read(2) forever. Every reader of model,
// config and data files goes through these checks first.
#pragma once

#include <string>

namespace abq {

/// What `path` is, for messages: "a regular file", "a directory", "a FIFO", "a socket",
/// "a character device", "a block device", or "missing" (stat(2) follows symbolic links).
std::string file_type_name(const std::string& path);

/// Throws abq::Error naming `what` and `path` unless `path` is (a link to) a regular file.
void require_regular_file(const std::string& path, const std::string& what);

/// Throws abq::Error naming `what` and `path` unless `path` is (a link to) a directory.
void require_directory(const std::string& path, const std::string& what);

/// open(2) for reading that cannot block (O_NONBLOCK, so a FIFO without a writer opens at once) and
/// refuses anything but a regular file. Returns the descriptor (O_CLOEXEC; the caller closes it).
/// Throws abq::Error naming `path` and the reason.
int open_regular_file(const std::string& path);

}  // namespace abq

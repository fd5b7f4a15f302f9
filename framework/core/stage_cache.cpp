#include "framework/core/stage_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "framework/core/log.h"
#include "framework/core/sha256.h"

namespace abq {
namespace {

constexpr char kMagic[8] = {'A', 'B', 'Q', 'S', 'T', 'G', '0', '1'};
constexpr size_t kDigestChars = 64;
constexpr size_t kHeaderBytes = sizeof(kMagic) + kDigestChars + sizeof(uint64_t);

// Why `bytes` is not a sound entry, or "" when it is; `payload` receives the payload.
std::string check_entry(const std::string& bytes, std::string& payload) {
  if (bytes.size() < kHeaderBytes) return cat("it has ", bytes.size(), " bytes, less than the ", kHeaderBytes, "-byte header");
  if (bytes.compare(0, sizeof(kMagic), kMagic, sizeof(kMagic)) != 0) return "it does not start with the entry magic ABQSTG01";
  const std::string digest = bytes.substr(sizeof(kMagic), kDigestChars);
  uint64_t size = 0;
  std::memcpy(&size, bytes.data() + sizeof(kMagic) + kDigestChars, sizeof(size));
  if (size != bytes.size() - kHeaderBytes)
    return cat("its header announces ", size, " payload bytes, the file holds ", bytes.size() - kHeaderBytes);
  payload = bytes.substr(kHeaderBytes);
  const std::string actual = sha256_hex(payload);
  if (actual != digest) return cat("its payload hashes to ", actual.substr(0, 16), "…, the header says ", digest.substr(0, 16), "…");
  return "";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(cat("cannot open ", path));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw Error(cat("reading ", path, " failed"));
  return out.str();
}

// Writes `bytes` to `path` and fsyncs it; throws abq::Error naming the call that failed.
void write_synced(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(cat("open(", path, "): ", std::strerror(errno)));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw Error(cat("write(", path, "): ", why));
    }
    done += size_t(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const std::string why = synced ? "" : std::strerror(errno);
  ::close(fd);
  if (!synced) throw Error(cat("fsync(", path, "): ", why));
}

// A temporary name no other writer uses: this process and a per-process counter.
std::string temp_path_for(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return cat(path, ".tmp.", ::getpid(), ".", counter++);
}

}  // namespace

std::string StageCache::path(const std::string& kind, const std::string& key) const {
  return dir_ + "/" + kind + "-" + key + ".bin";
}

std::optional<std::string> StageCache::get(const std::string& kind, const std::string& key) const {
  if (!enabled()) return std::nullopt;
  const std::string file = path(kind, key);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  try {
    std::string payload;
    const std::string problem = check_entry(read_file(file), payload);
    if (problem.empty()) return payload;
    log_warn("stage cache: entry ", file, " is damaged (", problem, "); computing the ", kind, " again");
  } catch (const std::exception& e) {
    log_warn("stage cache: cannot read ", file, " (", e.what(), "); computing the ", kind, " again");
  }
  return std::nullopt;
}

void StageCache::put(const std::string& kind, const std::string& key, const std::string& payload) const {
  if (!enabled()) return;
  const std::string file = path(kind, key);
  const std::string temp = temp_path_for(file);
  try {
    std::filesystem::create_directories(dir_);
    std::string entry(kMagic, sizeof(kMagic));
    entry += sha256_hex(payload);
    const uint64_t size = payload.size();
    entry.append(reinterpret_cast<const char*>(&size), sizeof(size));
    entry += payload;
    write_synced(temp, entry);
    std::filesystem::rename(temp, file);
  } catch (const std::exception& e) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    log_warn("stage cache: cannot write ", file, ": ", e.what(), " (the run goes on without caching its ", kind, ")");
  }
}

std::string stage_key(const std::vector<std::string>& parts) {
  std::string text;
  for (const auto& p : parts) text += std::to_string(p.size()) + ":" + p + "\n";
  return sha256_hex(text);
}

}  // namespace abq

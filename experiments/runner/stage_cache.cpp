#include "experiments/runner/stage_cache.h"

#include <cstring>
#include <filesystem>

#include "framework/core/log.h"
#include "framework/core/sha256.h"
#include "framework/store/atomic_file.h"

namespace abq::runner {
namespace {

constexpr char kWindowsMagic[8] = {'a', 'b', 'q', 'w', 'i', 'n', '0', '1'};

void append_i64(std::string& out, int64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); }

bool read_i64(const std::string& in, size_t& at, int64_t& v) {
  if (at + sizeof(v) > in.size()) return false;
  std::memcpy(&v, in.data() + at, sizeof(v));
  at += sizeof(v);
  return true;
}

}  // namespace

std::string StageCache::path(const std::string& kind, const std::string& key) const {
  return dir_ + "/" + kind + "-" + key + ".bin";
}

std::optional<std::string> StageCache::get(const std::string& kind, const std::string& key) const {
  if (!enabled() || !std::filesystem::exists(path(kind, key))) return std::nullopt;
  try {
    return store::read_whole_file(path(kind, key));
  } catch (const std::exception& e) {
    log_warn("stage cache: cannot read ", path(kind, key), ": ", e.what());
    return std::nullopt;
  }
}

void StageCache::put(const std::string& kind, const std::string& key, const std::string& bytes) const {
  if (!enabled()) return;
  try {
    std::filesystem::create_directories(dir_);
    store::write_file_atomically(path(kind, key), bytes);
  } catch (const std::exception& e) {
    log_warn("stage cache: cannot write ", path(kind, key), ": ", e.what());
  }
}

std::string cache_key(const std::vector<std::string>& parts) {
  std::string text;
  for (const auto& p : parts) text += std::to_string(p.size()) + ":" + p + "\n";
  return sha256_hex(text);
}

std::string encode_windows(const std::vector<std::vector<int64_t>>& windows) {
  std::string out(kWindowsMagic, sizeof(kWindowsMagic));
  append_i64(out, int64_t(windows.size()));
  for (const auto& w : windows) {
    append_i64(out, int64_t(w.size()));
    out.append(reinterpret_cast<const char*>(w.data()), w.size() * sizeof(int64_t));
  }
  return out;
}

std::optional<std::vector<std::vector<int64_t>>> decode_windows(const std::string& bytes) {
  if (bytes.size() < sizeof(kWindowsMagic) || bytes.compare(0, sizeof(kWindowsMagic), kWindowsMagic, sizeof(kWindowsMagic)) != 0)
    return std::nullopt;
  size_t at = sizeof(kWindowsMagic);
  int64_t count = 0;
  if (!read_i64(bytes, at, count) || count < 0) return std::nullopt;
  std::vector<std::vector<int64_t>> windows;
  for (int64_t i = 0; i < count; ++i) {
    int64_t length = 0;
    if (!read_i64(bytes, at, length) || length < 0 || uint64_t(length) > (bytes.size() - at) / sizeof(int64_t))
      return std::nullopt;
    std::vector<int64_t> w(static_cast<size_t>(length));
    std::memcpy(w.data(), bytes.data() + at, size_t(length) * sizeof(int64_t));
    at += size_t(length) * sizeof(int64_t);
    windows.push_back(std::move(w));
  }
  if (at != bytes.size()) return std::nullopt;
  return windows;
}

}  // namespace abq::runner

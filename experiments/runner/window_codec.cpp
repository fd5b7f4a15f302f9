#include "experiments/runner/window_codec.h"

#include <cstring>

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

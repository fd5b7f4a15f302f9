// Helpers shared by the store tests: a scratch directory per test, whole-file byte reads, and
// deterministic run records whose every field derives from an index (so a reader can recompute
// what any run must contain).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "framework/core/error.h"
#include "framework/store/results_store.h"

namespace abq::store::test_util {

/// Length of the seal line every write appends (store_seal.h: "abq-store-seal v1 sha256=… bytes=…\n").
constexpr size_t kSealBytes = 117;

/// e.what() of the abq::Error `action` throws, or "(no error)".
inline std::string error_text(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

/// A fresh directory under `base` (the system temp dir by default), removed with everything in it
/// at scope exit.
class ScratchDir {
 public:
  explicit ScratchDir(const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
    std::string pattern = (base / "abq_store_test_XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// /dev/shm when it is a writable directory (memory-backed: fsync costs nothing and does not
/// depend on other disk traffic), else the system temp dir.
inline std::filesystem::path memory_backed_temp() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) return "/dev/shm";
  return std::filesystem::temp_directory_path();
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

inline std::string run_id_of(int index) { return "run" + std::to_string(1000 + index); }

/// A record for run `index`: `sites` site rows, a few metrics / timings and an extra table of
/// `examples` rows. The values are exact binary fractions so that equality after a round trip is
/// exact.
inline RunRecord record_of(int index, int sites = 8, int examples = 3) {
  RunRecord r;
  r.run_id = run_id_of(index);
  r.attributes = {{"name", "sweep/" + std::to_string(index)},
                  {"config_hash", "hash" + std::to_string(index * 7)},
                  {"model_sha256", std::string(64, static_cast<char>('a' + index % 6))}};
  r.metrics = {{"ppl", "wikitext2", "ppl/wikitext2/2048", 5.5 + index, NAN, 4096 * (index + 1)},
               {"acc", "piqa", "mc/piqa/acc", 0.75, 0.0078125 * (index + 1), 1838}};
  for (int s = 0; s < sites; ++s) {
    r.sites.push_back({"layers." + std::to_string(s) + ".mlp.down_proj.weight", 2 + (index + s) % 7,
                       "group", 128, int64_t(1) << (2 + s % 3), 0.25 * s, 10.5 + index});
  }
  r.timings = {{"calibrate", 12.5 * index, int64_t(1) << 33}, {"evaluate", 0.5, 1 << 20}};
  std::vector<int64_t> example(examples);
  std::vector<double> logprob(examples);
  std::vector<std::string> answer(examples);
  for (int e = 0; e < examples; ++e) {
    example[e] = e;
    logprob[e] = -0.25 * ((e + index) % 17);
    answer[e] = "choice " + std::to_string((e * 7 + index) % 4);
  }
  Table table;
  table.add_i64("example", example).add_f64("logprob", logprob).add_strings("answer", answer);
  r.tables.emplace("examples", table);
  return r;
}

/// Attributes begin_run receives for run `index` (a subset of record_of(index).attributes).
inline std::map<std::string, std::string> begin_attributes_of(int index) {
  auto attributes = record_of(index, 0).attributes;
  attributes["experiment"] = "experiments/sweep.yaml";
  return attributes;
}

inline bool same_double(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

/// Field-by-field comparison of the parts of `actual` the writer controlled (attributes the store
/// adds itself, started / finished, are checked for presence only).
inline ::testing::AssertionResult same_record(const RunRecord& expected, const RunRecord& actual) {
  auto fail = [&](const std::string& what) {
    return ::testing::AssertionFailure() << "run " << expected.run_id << ": " << what;
  };
  if (actual.run_id != expected.run_id) return fail("run_id " + actual.run_id);
  if (actual.status != expected.status) return fail(std::string("status ") + run_status_name(actual.status));
  for (const auto& [key, value] : expected.attributes) {
    auto it = actual.attributes.find(key);
    if (it == actual.attributes.end() || it->second != value) return fail("attribute " + key);
  }
  if (actual.metrics.size() != expected.metrics.size()) return fail("metrics size");
  for (size_t i = 0; i < expected.metrics.size(); ++i) {
    const auto &e = expected.metrics[i], &a = actual.metrics[i];
    if (e.metric != a.metric || e.dataset != a.dataset || e.protocol != a.protocol || !same_double(e.value, a.value) ||
        !same_double(e.stderr_value, a.stderr_value) || e.n != a.n)
      return fail("metrics row " + std::to_string(i));
  }
  if (actual.sites.size() != expected.sites.size()) return fail("sites size");
  for (size_t i = 0; i < expected.sites.size(); ++i) {
    const auto &e = expected.sites[i], &a = actual.sites[i];
    if (e.site != a.site || e.bits != a.bits || e.granularity != a.granularity || e.group_size != a.group_size ||
        e.levels != a.levels || e.mse != a.mse || e.sqnr_db != a.sqnr_db)
      return fail("sites row " + std::to_string(i));
  }
  if (actual.timings.size() != expected.timings.size()) return fail("timings size");
  for (size_t i = 0; i < expected.timings.size(); ++i) {
    const auto &e = expected.timings[i], &a = actual.timings[i];
    if (e.stage != a.stage || e.seconds != a.seconds || e.peak_bytes != a.peak_bytes)
      return fail("timings row " + std::to_string(i));
  }
  if (actual.tables.size() != expected.tables.size()) return fail("number of extra tables");
  for (const auto& [name, table] : expected.tables) {
    auto it = actual.tables.find(name);
    if (it == actual.tables.end()) return fail("missing table " + name);
    const auto &e = table.columns(), &a = it->second.columns();
    if (e.size() != a.size()) return fail("columns of " + name);
    for (size_t c = 0; c < e.size(); ++c) {
      if (e[c].name != a[c].name || e[c].values != a[c].values) return fail("column " + e[c].name + " of " + name);
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace abq::store::test_util

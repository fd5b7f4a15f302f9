// Tuning table of the CPU path choice (see cpu_tuning.h).
#include "kernels/cpu/cpu_tuning.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/launch/format_check.h"

namespace abq::kernels::cpu {
namespace {

std::mutex g_mutex;
bool g_env_read = false;
std::vector<TuningEntry> g_table;
std::string g_error;

}  // namespace

std::string parse_tuning(const std::string& path, std::vector<TuningEntry>& out) {
  std::ifstream in(path);
  if (!in) return path + ": cannot open the tuning table";
  out.clear();
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    TuningEntry e;
    std::string extra;
    if (!(fields >> e.w_bits >> e.x_bits >> e.m >> e.n >> e.k >> e.bitplane_us >> e.int8_us) || (fields >> extra))
      return path + ":" + std::to_string(number) +
             ": expected 7 fields <w_bits> <x_bits> <M> <N> <K> <bitplane_us> <int8_unpack_us>, got \"" + line + "\"";
    if (e.w_bits < 1 || e.w_bits > 8 || e.x_bits < 2 || e.x_bits > 8 || e.m < 1 || e.n < 1 || e.k < 1 ||
        !(e.bitplane_us > 0) || !(e.int8_us > 0))
      return path + ":" + std::to_string(number) + ": bits, shape or times out of range in \"" + line + "\"";
    out.push_back(e);
  }
  return "";
}

abq_path tuned_path(const std::vector<TuningEntry>& table, int64_t m, int64_t n, int64_t k, int w_bits, int x_bits) {
  const TuningEntry* best = nullptr;
  double best_d = 0;
  for (const TuningEntry& e : table) {
    if (e.w_bits != w_bits || e.x_bits != x_bits) continue;
    const double d = std::fabs(std::log(double(m) / e.m)) + std::fabs(std::log(double(n) / e.n)) +
                     std::fabs(std::log(double(k) / e.k));
    if (best == nullptr || d < best_d) {
      best = &e;
      best_d = d;
    }
  }
  if (best == nullptr) return ABQ_PATH_AUTO;
  return best->bitplane_us < best->int8_us ? ABQ_PATH_BITPLANE : ABQ_PATH_INT8_UNPACK;
}

const std::vector<TuningEntry>& active_tuning(std::string& error) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_env_read) {
    g_env_read = true;
    const char* env = std::getenv("ABQ_CPU_TUNE");
    if (env != nullptr && *env != '\0') g_error = parse_tuning(env, g_table);
    if (!g_error.empty()) g_error = "ABQ_CPU_TUNE: " + g_error;
  }
  error = g_error;
  return g_table;
}

}  // namespace abq::kernels::cpu

extern "C" abq_status abq_cpu_load_tuning(const char* path) {
  using namespace abq::kernels::cpu;
  std::vector<TuningEntry> table;
  const std::string e = path == nullptr ? std::string() : parse_tuning(path, table);
  if (!e.empty()) {
    abq::kernels::launch::set_last_error("abq_cpu_load_tuning: " + e);
    return ABQ_ERR_INVALID;
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  g_env_read = true;
  g_error.clear();
  g_table = std::move(table);
  return ABQ_OK;
}

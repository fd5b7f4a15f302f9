#include "framework/core/progress.h"

#include <unistd.h>

#include <atomic>
#include <cmath>

namespace abq {
namespace {
std::atomic<bool> g_enabled{true};
constexpr double kTtyRedrawSeconds = 0.1;
constexpr double kPlainLineSeconds = 10.0;  // plain lines: at most one every 10 s
}  // namespace

void Progress::set_enabled(bool enabled) { g_enabled = enabled; }

std::string format_duration(double seconds) {
  char buf[32];
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) {
    std::snprintf(buf, sizeof(buf), "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof(buf), "%dm%02ds", int(seconds) / 60, int(seconds) % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%dh%02dm", int(seconds) / 3600, (int(seconds) % 3600) / 60);
  }
  return buf;
}

Progress::Progress(std::string label, int64_t total, std::string unit, FILE* out)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), out_(out),
      tty_(isatty(fileno(out)) != 0), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t n) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since >= (tty_ ? kTtyRedrawSeconds : kPlainLineSeconds)) draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (done_ > 0 && (tty_ || done_ != drawn_)) draw(true);
}

void Progress::draw(bool final_line) {
  if (!g_enabled) return;
  last_draw_ = std::chrono::steady_clock::now();
  drawn_ = done_;
  double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  double rate = elapsed > 0 ? done_ / elapsed : 0;
  std::string eta = (total_ > 0 && rate > 0) ? format_duration((total_ - done_) / rate) : "?";
  char counts[96];
  if (total_ > 0)
    std::snprintf(counts, sizeof(counts), "%lld/%lld", (long long)done_, (long long)total_);
  else
    std::snprintf(counts, sizeof(counts), "%lld", (long long)done_);
  char tail[160];
  std::snprintf(tail, sizeof(tail), "%s  %.1f %s/s  elapsed %s  eta %s", counts, rate, unit_.c_str(),
                format_duration(elapsed).c_str(), final_line ? "0s" : eta.c_str());
  if (tty_) {
    std::string bar;
    if (total_ > 0) {
      const int width = 24;
      int filled = int(width * double(done_) / double(total_));
      bar = "[" + std::string(std::min(filled, width), '#') + std::string(width - std::min(filled, width), '.') + "] ";
    }
    std::fprintf(out_, "\r\033[K%s %s%s%s", label_.c_str(), bar.c_str(), tail, final_line ? "\n" : "");
  } else {
    std::fprintf(out_, "%s %s\n", label_.c_str(), tail);
  }
  std::fflush(out_);
}

}  // namespace abq

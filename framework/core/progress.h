// Progress reporting for long loops: a redrawn bar with rate and ETA on a terminal, plain
// periodic lines otherwise (logs, CI), so output stays readable when stdout is a file.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace abq {

class Progress {
 public:
  /// `total` may be 0 when unknown; `unit` names what is counted ("win", "tok", "block").
  Progress(std::string label, int64_t total, std::string unit = "it", FILE* out = stderr);
  ~Progress();
  void advance(int64_t n = 1);
  /// Ends the line (prints the final state once).
  void finish();

  /// Globally silence progress output (tests, --quiet).
  static void set_enabled(bool enabled);

 private:
  void draw(bool final_line);
  std::string label_;
  std::string unit_;
  int64_t total_;
  int64_t done_ = 0;
  int64_t drawn_ = -1;  // done_ at the last line printed
  FILE* out_;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

/// Formats seconds as "1h02m", "3m05s" or "4.2s".
std::string format_duration(double seconds);

}  // namespace abq

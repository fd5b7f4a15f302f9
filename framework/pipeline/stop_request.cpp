#include "framework/pipeline/stop_request.h"

#include <csignal>

namespace abq::pipeline {
namespace {
volatile std::sig_atomic_t stop_flag = 0;
}  // namespace

void request_stop() noexcept { stop_flag = 1; }
bool stop_requested() noexcept { return stop_flag != 0; }
void clear_stop_request() noexcept { stop_flag = 0; }

void stop_if_requested(const std::string& where) {
  if (stop_requested()) throw StopRequested(cat("stopped on request ", where));
}

}  // namespace abq::pipeline

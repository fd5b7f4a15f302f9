// Runs a call in a forked child with a deadline, so a test of "fails at once instead of blocking"
// reports a failure rather than hanging the suite when the call blocks (a FIFO opened for reading).
// The child reports how the call ended through a pipe: "ok", "error: <abq::Error what()>" or
// "other: <what()>"; a child still running at the deadline is killed and reported as "blocked".
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <thread>

#include "framework/core/error.h"

namespace abq::test {

inline std::string run_with_deadline(const std::function<void()>& call, double seconds) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t child = ::fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    ::close(fds[0]);
    std::string outcome = "ok";
    try {
      call();
    } catch (const Error& e) {
      outcome = std::string("error: ") + e.what();
    } catch (const std::exception& e) {
      outcome = std::string("other: ") + e.what();
    }
    const ssize_t ignored = ::write(fds[1], outcome.data(), outcome.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  bool done = false;
  while (!(done = ::waitpid(child, &status, WNOHANG) == child) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!done) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    ::close(fds[0]);
    return "blocked";
  }
  std::string outcome;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) outcome.append(buf, size_t(n));
  ::close(fds[0]);
  return outcome;
}

}  // namespace abq::test

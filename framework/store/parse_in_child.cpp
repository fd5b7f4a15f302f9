#include "framework/store/parse_in_child.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "framework/core/error.h"

namespace abq::store {

namespace {

constexpr char kAnswer = 'A';
constexpr char kFailure = 'E';

void write_text(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

std::string read_text(int fd) {
  std::string text;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return text;
    text.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

std::string parse_in_child(const std::function<std::string()>& parse, double seconds) {
  int channel[2];
  if (::pipe(channel) != 0) throw Error(cat("cannot create a pipe to check it: ", std::strerror(errno)));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(channel[0]);
    ::close(channel[1]);
    throw Error(cat("cannot fork to check it: ", std::strerror(errno)));
  }
  if (pid == 0) {
    ::close(channel[0]);
    // One tag byte says which of the two follows: the answer, or the error text.
    std::string message;
    try {
      message = kAnswer + parse();
    } catch (const std::exception& e) {
      message = kFailure + std::string(e.what());
    } catch (...) {
      message = kFailure + std::string("unknown exception");
    }
    write_text(channel[1], message);
    ::_exit(0);  // no atexit handlers, no flushing of buffers the parent owns
  }
  ::close(channel[1]);
  // The child exits right after writing, so reading until EOF cannot stall longer than the
  // child lives, and the child is killed at the deadline below. The reader runs beside the wait
  // so that an answer larger than the pipe's buffer cannot block the child.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  std::string message;
  std::thread reader([&] { message = read_text(channel[0]); });
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if ((done < 0 && errno != EINTR) || std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      reader.join();
      ::close(channel[0]);
      throw Error(cat("HDF5 did not finish parsing it within ", seconds, " s"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  reader.join();
  ::close(channel[0]);
  if (WIFSIGNALED(status)) {
    throw Error(cat("HDF5 crashed parsing it (signal ", WTERMSIG(status), ", ",
                    strsignal(WTERMSIG(status)), ")"));
  }
  if (message.empty() || (message[0] != kAnswer && message[0] != kFailure)) {
    throw Error(cat("the process parsing it ended without an answer (exit status ",
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1, ")"));
  }
  if (message[0] == kFailure) throw Error(message.substr(1));
  return message.substr(1);
}

}  // namespace abq::store

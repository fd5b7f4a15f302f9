#include "experiments/sweep/subprocess.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "framework/core/error.h"

extern char** environ;

namespace abq::sweep {
namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string read_all(int fd) {
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    text.append(buf, size_t(n));
  }
  return text;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv) {
  if (argv.empty()) throw Error("run_command: no program");
  // stderr goes to an unlinked temporary file, so neither pipe can fill while the other is read.
  char err_name[] = "/tmp/abq-command-XXXXXX";
  const int err_fd = mkstemp(err_name);
  if (err_fd < 0) throw Error(cat("cannot create a temporary file for ", argv[0], "'s errors: ", std::strerror(errno)));
  unlink(err_name);
  int out[2];
  if (pipe(out) != 0) throw Error(cat("pipe: ", std::strerror(errno)));
  auto args = c_argv(argv);
  const pid_t pid = fork();
  if (pid < 0) throw Error(cat("cannot start ", argv[0], ": ", std::strerror(errno)));
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err_fd, 2);
    close(out[0]);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  CommandResult result;
  result.output = read_all(out[0]);
  close(out[0]);
  result.exit_code = wait_exit_code(pid);
  lseek(err_fd, 0, SEEK_SET);
  result.errors = read_all(err_fd);
  close(err_fd);
  return result;
}

pid_t start_process(const std::vector<std::string>& argv, const std::string& log_path,
                    const std::map<std::string, std::string>& environment) {
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw Error(cat("cannot open log file '", log_path, "': ", std::strerror(errno)));
  auto args = c_argv(argv);
  const pid_t pid = fork();
  if (pid < 0) {
    close(log);
    throw Error(cat("cannot start ", argv[0], ": ", std::strerror(errno)));
  }
  if (pid == 0) {
    dup2(log, 1);
    dup2(log, 2);
    for (const auto& [key, value] : environment) setenv(key.c_str(), value.c_str(), 1);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(log);
  return pid;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string dirs = path;
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

std::string this_executable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error(cat("cannot find the abq executable (/proc/self/exe): ", ec.message()));
  return path.string();
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace abq::sweep

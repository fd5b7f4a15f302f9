// Running the programs a sweep drives (abq workers, sbatch, scontrol, squeue) without a shell:
// arguments are passed as they are, so paths with spaces or quotes need no escaping.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace abq::sweep {

struct CommandResult {
  int exit_code = -1;    // 127 when the program could not be started; 128 + N when killed by signal N
  std::string output;    // stdout
  std::string errors;    // stderr
};

/// Runs `argv` (argv[0] looked up on PATH) to completion and captures its output.
CommandResult run_command(const std::vector<std::string>& argv);

/// Starts `argv` with stdout and stderr appended to `log_path` and `environment` added to this
/// process's; returns its pid. Throws abq::Error when it cannot be started.
pid_t start_process(const std::vector<std::string>& argv, const std::string& log_path,
                    const std::map<std::string, std::string>& environment);

/// Whether `program` is found on PATH.
bool on_path(const std::string& program);

/// The absolute path of the running executable (/proc/self/exe).
std::string this_executable();

/// `text` quoted for a POSIX shell ('...' with embedded quotes escaped), for the scripts a sweep writes.
std::string shell_quote(const std::string& text);

}  // namespace abq::sweep

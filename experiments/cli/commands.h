// The `abq` subcommands: one file each, one entry in the table in main.cpp.
// Each returns the process exit code: 0 ok, 1 runtime failure, 2 usage or config error.
#pragma once

#include <string>
#include <vector>

namespace abq::cli {

using Args = std::vector<std::string>;

int cmd_run(const Args& args);
int cmd_config(const Args& args);
int cmd_validate(const Args& args);
int cmd_show(const Args& args);
int cmd_describe(const Args& args);
int cmd_eval(const Args& args);
int cmd_allocate(const Args& args);
int cmd_sweep(const Args& args);
int cmd_merge(const Args& args);
int cmd_status(const Args& args);
int cmd_report(const Args& args);
int cmd_bench(const Args& args);

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

}  // namespace abq::cli

// The `cluster:` key of an experiment file and the matching `abq sweep` options, declared once:
// how a sweep's runs are executed (local worker processes or Slurm job arrays) and with which
// resources. Not part of any run's config or hash (load_experiment removes it before hashing).
#pragma once

#include <cstdint>
#include <string>

#include "framework/config/options.h"

namespace abq::runner {

inline constexpr const char* kClusterKey = "cluster";

enum class SweepBackend { local, slurm };

struct ClusterOptions {
  SweepBackend backend = SweepBackend::local;
  int64_t jobs = 1;               // local: worker processes at a time
  std::string partition;          // slurm: --partition ("" = the cluster's default)
  std::string time;               // slurm: --time, e.g. "60" (minutes) or "2:00:00" ("" = the partition's)
  int64_t cpus = 0;               // threads of each run and slurm's --cpus-per-task (0: local cores / jobs; slurm 1)
  int64_t gpus = 1;               // slurm: --gpus per task of runs on cuda
  std::string mem;                // slurm: --mem, e.g. "8G" ("" = the partition's default)
  std::string account;            // slurm: --account ("" = the user's default)
  int64_t max_parallel = 0;       // slurm: array throttle %N (0 = no limit)
  int64_t signal_seconds = 120;   // slurm: USR1 this long before the time limit (--signal=B:USR1@N)
  int64_t max_array_size = 0;     // slurm: array chunk size (0 = MaxArraySize from `scontrol show config`)
};

const config::OptionSet<ClusterOptions>& cluster_options();

/// "local" / "slurm".
const char* backend_name(SweepBackend backend);

}  // namespace abq::runner

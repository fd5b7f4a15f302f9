#include "experiments/runner/cluster_options.h"

namespace abq::runner {

using config::Schema;

const config::OptionSet<ClusterOptions>& cluster_options() {
  static const auto set =
      config::OptionSet<ClusterOptions>()
          .enumeration("backend", &ClusterOptions::backend,
                       {{"local", SweepBackend::local}, {"slurm", SweepBackend::slurm}},
                       "local: worker processes on this machine; slurm: one job array per resource class")
          .field("jobs", &ClusterOptions::jobs,
                 Schema::integer().range(1, 4096).doc("local: runs at a time, one worker process each (runs on cuda "
                                                      "get one GPU each through CUDA_VISIBLE_DEVICES)"))
          .field("partition", &ClusterOptions::partition, Schema::string().optional().doc("slurm: partition (\"\": the default)"))
          .field("time", &ClusterOptions::time,
                 Schema::string().optional().doc("slurm: time limit per task, as sbatch --time (\"60\", \"2:00:00\"; \"\": the "
                                      "partition's)"))
          .field("cpus", &ClusterOptions::cpus,
                 Schema::integer().range(0, 4096).doc("CPU cores per run: its threads, and slurm's --cpus-per-task (0: "
                                                      "local: the cores shared among the workers; slurm: 1)"))
          .field("gpus", &ClusterOptions::gpus,
                 Schema::integer().range(1, 64).doc("slurm: GPUs per task of the runs on cuda (--gpus)"))
          .field("mem", &ClusterOptions::mem, Schema::string().optional().doc("slurm: memory per task as sbatch --mem (\"8G\"; "
                                                                   "\"\": the partition's)"))
          .field("account", &ClusterOptions::account, Schema::string().optional().doc("slurm: account (\"\": the user's default)"))
          .field("max_parallel", &ClusterOptions::max_parallel,
                 Schema::integer().range(0, 1 << 20).doc("slurm: tasks of one array running at a time (%N; 0: no limit)"))
          .field("signal_seconds", &ClusterOptions::signal_seconds,
                 Schema::integer().range(1, 86400).doc(
                     "slurm: seconds before the time limit at which a task is sent USR1; it then checkpoints, "
                     "leaves its run incomplete and requeues itself"))
          .field("max_array_size", &ClusterOptions::max_array_size,
                 Schema::integer().range(0, 1 << 24).doc(
                     "slurm: tasks per array (0: the cluster's MaxArraySize from `scontrol show config`)"));
  return set;
}

const char* backend_name(SweepBackend backend) { return backend == SweepBackend::slurm ? "slurm" : "local"; }

}  // namespace abq::runner

// `abq status RESULTS`: where every run of a sweep stands, from the stores (the results file and
// the task files in <results>.sweep/tasks) and, when the sweep went to Slurm and squeue is there,
// the queue state of its tasks (squeue only: no accounting database is needed).
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "experiments/sweep/slurm_backend.h"

namespace abq::sweep {

struct QueuedTask {
  std::string job_id;  // "<array>_<task>" for array tasks, else the job id
  std::string state;   // PENDING, RUNNING, ...
  std::string reason;  // squeue %r
};

/// The sweep's jobs (jobs.tsv) that squeue still lists, by job id ("<array>_<task>" for array
/// tasks); empty when squeue is missing or fails.
std::map<std::string, QueuedTask> queued_tasks(const std::vector<SlurmJob>& jobs);

struct StatusCounts {
  int complete = 0, running = 0, interrupted = 0, failed = 0, not_started = 0;
};

/// Prints one line per run and the counts.
StatusCounts print_status(const std::string& results, std::ostream& out);

}  // namespace abq::sweep

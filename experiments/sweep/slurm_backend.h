// The Slurm backend of `abq sweep`: one job array per resource class (cpu / gpu), one array task
// per run still to do, then a merge job. The submitter writes the scripts into the sweep folder
// (readable, resubmittable with plain sbatch), submits them and returns with the job ids; it never
// waits for the jobs.
//
//   <class>.runs         the runs of the class, one "run id<TAB>name" per line
//   <class>-<k>.sbatch   chunk k of the class: `--array=0-(n-1)%max_parallel`, task i runs line
//                        OFFSET + i + 1 (OFFSET = k * chunk): arrays are split at the cluster's
//                        MaxArraySize, which caps the index itself, so every chunk starts at 0
//   merge.sbatch         `abq merge` of every task file into the results file, submitted with
//                        --dependency=afterany:<arrays> --kill-on-invalid-dep=yes (failed tasks
//                        are merged as failed instead of holding the merge forever)
//   jobs.tsv             one line per submitted job: job id, script, offset, tasks (`abq status`)
//
// Every task is submitted with --requeue and --signal=B:USR1@signal_seconds: before its time limit
// (or when preempted with that signal) the task finishes its current calibration block (whose
// checkpoint is on disk), leaves its run incomplete and requeues itself; the requeued task resumes
// at the next block.
#pragma once

#include <string>
#include <vector>

#include "experiments/sweep/sweep_plan.h"

namespace abq::sweep {

struct SlurmJob {
  std::string job_id;
  std::string script;
  int64_t offset = 0;  // arrays: index of the first run of the chunk in <class>.runs
  int64_t tasks = 0;   // arrays: number of tasks; 0 for the merge job
};

/// Writes the scripts of the plan's todo runs and, unless `dry_run`, submits them. Throws
/// abq::Error with sbatch's message when a submission fails (jobs already submitted are listed).
std::vector<SlurmJob> submit_slurm(const SweepPlan& plan, bool dry_run);

/// MaxArraySize from `scontrol show config` (tasks per array: indices 0..MaxArraySize-1);
/// throws abq::Error when scontrol fails or does not say.
int64_t slurm_max_array_size();

/// Parses "MaxArraySize = 1001" out of `scontrol show config` output; 0 when absent.
int64_t parse_max_array_size(const std::string& scontrol_output);

/// Requeues the Slurm job this process runs in (an array task by <array>_<task>); throws
/// abq::Error outside Slurm or when scontrol refuses.
void requeue_this_job();

/// The job records of a sweep folder (jobs.tsv); empty when none.
std::vector<SlurmJob> read_jobs_file(const std::string& folder);

}  // namespace abq::sweep

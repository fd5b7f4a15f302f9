// The local backend of `abq sweep`: the runs still to do, `cluster.jobs` at a time, each in its own
// `abq run` worker process writing its own task file, then merged into the results file. Runs on
// cuda get one GPU each (CUDA_VISIBLE_DEVICES: worker slot i gets the i-th visible GPU).
#pragma once

#include "experiments/sweep/merge_report.h"
#include "experiments/sweep/sweep_plan.h"

namespace abq::sweep {

/// Runs the plan's todo runs, merges every task file and prints progress to stdout. Returns the
/// merge's summary (failed runs are reported there, with their error).
MergeSummary run_local(const SweepPlan& plan);

/// Threads per worker: cluster.cpus, or the available cores shared among the workers when 0.
int local_threads(const runner::ClusterOptions& cluster, int available_cores);

}  // namespace abq::sweep

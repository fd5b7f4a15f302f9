#include "experiments/sweep/local_backend.h"

#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>

#include "experiments/sweep/subprocess.h"
#include "framework/core/error.h"
#include "framework/pipeline/cpu_threads.h"

namespace abq::sweep {
namespace {

// The GPUs a worker may be given: CUDA_VISIBLE_DEVICES's entries, else 0..jobs-1.
std::vector<std::string> visible_gpus(int64_t jobs) {
  std::vector<std::string> gpus;
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES"); visible && *visible) {
    std::istringstream in(visible);
    for (std::string g; std::getline(in, g, ',');)
      if (!g.empty()) gpus.push_back(g);
    return gpus;
  }
  for (int64_t i = 0; i < jobs; ++i) gpus.push_back(std::to_string(i));
  return gpus;
}

struct Worker {
  const SweepRun* run;
  size_t slot;
  std::string log;
};

}  // namespace

int local_threads(const runner::ClusterOptions& cluster, int available_cores) {
  if (cluster.cpus > 0) return int(cluster.cpus);
  return std::max(1, available_cores / int(std::max<int64_t>(1, cluster.jobs)));
}

MergeSummary run_local(const SweepPlan& plan) {
  const auto todo = plan.with_state(RunState::todo);
  const int threads = local_threads(plan.cluster, pipeline::available_cores());
  const auto gpus = visible_gpus(plan.cluster.jobs);
  std::map<pid_t, Worker> running;
  std::vector<bool> slot_busy(size_t(plan.cluster.jobs), false);
  size_t next = 0, finished = 0;
  std::cout << "sweep: " << todo.size() << " run(s) to do, " << plan.cluster.jobs << " at a time, " << threads
            << " thread(s) each; logs in " << plan.folder << "/logs\n"
            << std::flush;
  while (finished < todo.size()) {
    while (next < todo.size() && running.size() < size_t(plan.cluster.jobs)) {
      const SweepRun* run = todo[next++];
      const size_t slot = size_t(std::find(slot_busy.begin(), slot_busy.end(), false) - slot_busy.begin());
      std::map<std::string, std::string> env;
      if (run->resources == ResourceClass::gpu) {
        if (slot >= gpus.size())
          throw Error(cat("--jobs ", plan.cluster.jobs, " runs on cuda need ", plan.cluster.jobs, " GPUs, and only ",
                          gpus.size(), " are visible (CUDA_VISIBLE_DEVICES)"));
        env["CUDA_VISIBLE_DEVICES"] = gpus[slot];
      }
      const std::string log = plan.folder + "/logs/" + run->run_id + ".log";
      const pid_t pid = start_process(task_command(plan, run->run_id, plan.task_store(run->run_id), threads, false), log, env);
      slot_busy[slot] = true;
      running[pid] = {run, slot, log};
      std::cout << "  started  " << run->name << " (" << run->run_id << ")" << std::endl;
    }
    int status = 0;
    const pid_t done = waitpid(-1, &status, 0);
    if (done < 0) {
      if (errno == EINTR) continue;
      throw Error(cat("waiting for the sweep's workers failed: ", std::strerror(errno)));
    }
    auto it = running.find(done);
    if (it == running.end()) continue;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::cout << "  " << (code == 0 ? "finished " : "FAILED   ") << it->second.run->name << " ("
              << it->second.run->run_id << ")" << (code == 0 ? "" : cat(", exit code ", code, ", log: ", it->second.log))
              << std::endl;
    slot_busy[it->second.slot] = false;
    running.erase(it);
    ++finished;
  }
  return merge_and_report(existing_task_stores(plan), plan.results, plan.runs_file(), std::cout);
}

}  // namespace abq::sweep

#include "experiments/sweep/sweep_status.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "experiments/sweep/subprocess.h"
#include "experiments/sweep/sweep_plan.h"
#include "framework/core/error.h"
#include "framework/core/text_table.h"
#include "framework/store/results_store.h"
#include "framework/store/run_owner.h"

namespace abq::sweep {
namespace fs = std::filesystem;
namespace {

std::string attribute(const store::RunRecord& r, const std::string& key) {
  auto it = r.attributes.find(key);
  return it == r.attributes.end() ? "" : it->second;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::optional<store::RunRecord> read_record(const std::string& path, const std::string& run_id) {
  if (!fs::exists(path)) return std::nullopt;
  store::ResultsStore s(path, store::OpenMode::existing);
  if (!s.status(run_id)) return std::nullopt;
  return s.read_run(run_id);
}

// The run behind array task `task` of `job`: line offset + task of the job's runs file.
std::map<std::string, std::string> task_runs(const std::string& folder, const std::vector<SlurmJob>& jobs) {
  std::map<std::string, std::string> by_task;
  for (const auto& j : jobs) {
    if (j.tasks == 0) continue;
    const std::string stem = fs::path(j.script).stem().string();  // "<class>-<offset>"
    const auto runs = read_runs_file(folder + "/" + stem.substr(0, stem.rfind('-')) + ".runs");
    for (int64_t i = 0; i < j.tasks && size_t(j.offset + i) < runs.size(); ++i)
      by_task[cat(j.job_id, "_", i)] = runs[size_t(j.offset + i)].run_id;
  }
  return by_task;
}

}  // namespace

std::map<std::string, QueuedTask> queued_tasks(const std::vector<SlurmJob>& jobs) {
  std::map<std::string, QueuedTask> queued;
  if (jobs.empty() || !on_path("squeue")) return queued;
  std::set<std::string> ours;
  for (const auto& j : jobs) ours.insert(j.job_id);
  // Every job of the queue, filtered here: `squeue -j` fails as a whole on one purged id.
  CommandResult r = run_command({"squeue", "-h", "-r", "-o", "%A|%a|%T|%r"});
  if (r.exit_code != 0) return queued;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    QueuedTask t;
    std::string array, task;
    std::getline(fields, array, '|');
    std::getline(fields, task, '|');
    std::getline(fields, t.state, '|');
    std::getline(fields, t.reason, '|');
    if (!ours.count(array)) continue;
    t.job_id = task == "N/A" ? array : array + "_" + task;
    queued[t.job_id] = t;
  }
  return queued;
}

StatusCounts print_status(const std::string& results, std::ostream& out) {
  const std::string folder = sweep_folder(results);
  std::vector<ListedRun> runs = read_runs_file(folder + "/runs.tsv");
  std::optional<store::ResultsStore> merged;
  if (fs::exists(results)) merged.emplace(results, store::OpenMode::existing);
  if (runs.empty()) {
    if (!merged) throw Error(cat("no results store '", results, "' and no sweep folder '", folder, "'"));
    for (const auto& r : merged->read_all()) runs.push_back({r.run_id, attribute(r, "name"), ""});
  }
  const auto jobs = read_jobs_file(folder);
  const auto queue = queued_tasks(jobs);
  const auto by_task = task_runs(folder, jobs);
  std::map<std::string, std::string> queue_of_run;
  for (const auto& [task, q] : queue) {
    auto it = by_task.find(task);
    if (it != by_task.end()) queue_of_run[it->second] = q.state + (q.reason.empty() || q.reason == "None" ? "" : " (" + q.reason + ")");
  }

  StatusCounts counts;
  TextTable table({"run", "id", "state", "slurm"});
  for (const auto& listed : runs) {
    const auto in_results = merged ? (merged->status(listed.run_id) ? std::optional(merged->read_run(listed.run_id)) : std::nullopt)
                                   : std::nullopt;
    const auto in_task = read_record(folder + "/tasks/" + listed.run_id + ".h5", listed.run_id);
    std::string state;
    if (in_results && in_results->status == store::RunStatus::complete) {
      state = "complete";
      ++counts.complete;
    } else if (in_task && in_task->status == store::RunStatus::complete) {
      state = "complete (in its task file; not merged yet)";
      ++counts.complete;
    } else if (in_task && in_task->status == store::RunStatus::running) {
      const std::string interrupted = attribute(*in_task, store::schema::kInterruptedAttr);
      if (!interrupted.empty()) {
        state = "interrupted, to be resumed: " + first_line(interrupted);
        ++counts.interrupted;
      } else {
        auto owner = store::owner_from_attributes(in_task->attributes);
        const bool dead = owner && store::owner_state(*owner) == store::OwnerState::dead;
        state = dead ? "incomplete (its process died; the next submission resumes it)"
                     : "running" + (owner ? " in " + store::describe_owner(*owner, attribute(*in_task, "started")) : "");
        ++(dead ? counts.interrupted : counts.running);
      }
    } else if (in_task || in_results) {
      const auto& r = in_task ? *in_task : *in_results;
      state = "failed: " + first_line(attribute(r, store::schema::kErrorAttr));
      ++counts.failed;
    } else {
      state = "not started";
      ++counts.not_started;
    }
    auto q = queue_of_run.find(listed.run_id);
    table.add_row({listed.name, listed.run_id, state, q == queue_of_run.end() ? "-" : q->second});
  }
  out << results << ": " << runs.size() << " run(s)\n" << table.render();
  out << counts.complete << " complete, " << counts.running << " running, " << counts.interrupted
      << " interrupted, " << counts.failed << " failed, " << counts.not_started << " not started";
  if (!jobs.empty()) out << (on_path("squeue") ? "" : " (squeue not found: no queue states)");
  out << "\n";
  return counts;
}

}  // namespace abq::sweep

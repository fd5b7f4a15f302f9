#include "experiments/sweep/slurm_backend.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "experiments/sweep/subprocess.h"
#include "framework/core/error.h"
#include "framework/store/schema.h"

namespace abq::sweep {
namespace fs = std::filesystem;
namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out.flush()) throw Error(cat("cannot write '", path, "'"));
}

// The #SBATCH lines every task of a class gets.
std::string resource_lines(const runner::ClusterOptions& c, ResourceClass resources) {
  std::ostringstream s;
  s << "#SBATCH --requeue\n";
  s << "#SBATCH --signal=B:USR1@" << c.signal_seconds << "\n";
  s << "#SBATCH --open-mode=append\n";
  s << "#SBATCH --cpus-per-task=" << std::max<int64_t>(1, c.cpus) << "\n";
  if (resources == ResourceClass::gpu) s << "#SBATCH --gpus=" << c.gpus << "\n";
  if (!c.time.empty()) s << "#SBATCH --time=" << c.time << "\n";
  if (!c.partition.empty()) s << "#SBATCH --partition=" << c.partition << "\n";
  if (!c.account.empty()) s << "#SBATCH --account=" << c.account << "\n";
  if (!c.mem.empty()) s << "#SBATCH --mem=" << c.mem << "\n";
  return s.str();
}

// Placeholders task_command is given for the script: the run id is read from the runs file at
// run time.
constexpr const char* kRunIdWord = "@RUN_ID@";
constexpr const char* kTaskStoreWord = "@TASK_STORE@";

std::string script_command(const SweepPlan& plan, const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    std::string word = a == kRunIdWord       ? std::string("\"$run_id\"")
                       : a == kTaskStoreWord ? shell_quote(plan.folder + "/tasks/") + "\"$run_id\".h5"
                                             : shell_quote(a);
    out += (out.empty() ? "" : " ") + word;
  }
  return out;
}

std::string array_script(const SweepPlan& plan, ResourceClass resources, const std::string& runs_file,
                         int64_t offset, int64_t tasks, const std::string& experiment_name) {
  const std::string name = class_name(resources);
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# abq sweep of " << plan.experiment_file << ": runs on " << name << ", tasks 0.." << tasks - 1
    << " = lines " << offset + 1 << ".." << offset + tasks << " of " << runs_file << ".\n"
    << "# Written by `abq sweep`; resubmit with `sbatch " << plan.folder << "/" << name << "-" << offset << ".sbatch`"
    << " (runs complete in their task file are skipped).\n"
    << "#SBATCH --job-name=abq-" << experiment_name << "-" << name << "\n"
    << "#SBATCH --array=0-" << tasks - 1;
  if (plan.cluster.max_parallel > 0) s << "%" << plan.cluster.max_parallel;
  s << "\n#SBATCH --output=" << plan.folder << "/logs/%A_%a.out\n" << resource_lines(plan.cluster, resources);
  // The script execs abq, so the batch shell that receives USR1 (--signal=B:) is abq itself.
  const std::string command =
      script_command(plan, task_command(plan, kRunIdWord, kTaskStoreWord, int(std::max<int64_t>(1, plan.cluster.cpus)), true));
  s << "set -euo pipefail\n"
    << "OFFSET=" << offset << "\n"
    << "run_id=$(sed -n \"$((SLURM_ARRAY_TASK_ID + OFFSET + 1))p\" " << shell_quote(runs_file) << " | cut -f1)\n"
    << "[ -n \"$run_id\" ] || { echo \"abq sweep: no run at line $((SLURM_ARRAY_TASK_ID + OFFSET + 1)) of "
    << runs_file << "\" >&2; exit 2; }\n"
    << "echo \"abq sweep: task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} (restart ${SLURM_RESTART_COUNT:-0}) runs $run_id on $(hostname)\"\n"
    << "cd " << shell_quote(plan.working_dir) << "\n"
    << "exec " << command << "\n";
  return s.str();
}

std::string merge_script(const SweepPlan& plan, const std::string& experiment_name) {
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# abq sweep of " << plan.experiment_file << ": merges every task file into " << plan.results << ".\n"
    << "# Submitted with --dependency=afterany:<the arrays> --kill-on-invalid-dep=yes; safe to run again by hand.\n"
    << "#SBATCH --job-name=abq-" << experiment_name << "-merge\n"
    << "#SBATCH --output=" << plan.folder << "/logs/merge_%j.out\n"
    << "#SBATCH --open-mode=append\n";
  if (!plan.cluster.partition.empty()) s << "#SBATCH --partition=" << plan.cluster.partition << "\n";
  if (!plan.cluster.account.empty()) s << "#SBATCH --account=" << plan.cluster.account << "\n";
  s << "set -euo pipefail\n"
    << "shopt -s nullglob\n"
    << "tasks=(" << shell_quote(plan.folder + "/tasks/") << "*.h5)\n"
    << "exec " << shell_quote(plan.abq) << " merge \"${tasks[@]}\" -o " << shell_quote(plan.results) << " --runs "
    << shell_quote(plan.runs_file()) << "\n";
  return s.str();
}

std::string sbatch(const std::vector<std::string>& args, const std::vector<SlurmJob>& so_far) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = run_command(argv);
  std::string id = r.output.substr(0, r.output.find_first_of(";\n"));
  if (r.exit_code != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    std::string submitted;
    for (const auto& j : so_far) submitted += " " + j.job_id;
    throw Error(cat("sbatch ", args.back(), " failed (exit code ", r.exit_code, "): ", r.errors.empty() ? r.output : r.errors,
                    so_far.empty() ? std::string("nothing was submitted") : "already submitted:" + submitted));
  }
  return id;
}

std::string safe_job_name(const std::string& path) {
  std::string name = fs::path(path).stem().string();
  for (auto& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) c = '_';
  return name;
}

}  // namespace

int64_t parse_max_array_size(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto key = line.find("MaxArraySize");
    const auto eq = line.find('=');
    if (key == std::string::npos || eq == std::string::npos) continue;
    try {
      return std::stoll(line.substr(eq + 1));
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

int64_t slurm_max_array_size() {
  CommandResult r = run_command({"scontrol", "show", "config"});
  if (r.exit_code != 0)
    throw Error(cat("`scontrol show config` failed (exit code ", r.exit_code, "): ", r.errors,
                    "; set cluster.max_array_size (--max-array-size) to submit without asking the cluster"));
  const int64_t size = parse_max_array_size(r.output);
  if (size <= 0) throw Error("`scontrol show config` does not state MaxArraySize; set cluster.max_array_size (--max-array-size)");
  return size;
}

std::vector<SlurmJob> submit_slurm(const SweepPlan& plan, bool dry_run) {
  const int64_t chunk = plan.cluster.max_array_size > 0 ? plan.cluster.max_array_size
                        : dry_run                      ? 1000
                                                       : slurm_max_array_size();
  const std::string experiment_name = safe_job_name(plan.experiment_file);
  std::vector<SlurmJob> jobs;
  for (ResourceClass resources : {ResourceClass::cpu, ResourceClass::gpu}) {
    std::ostringstream listing;
    int64_t count = 0;
    for (const auto* run : plan.with_state(RunState::todo))
      if (run->resources == resources) {
        listing << run->run_id << "\t" << run->name << "\n";
        ++count;
      }
    if (count == 0) continue;
    const std::string runs_file = plan.folder + "/" + class_name(resources) + ".runs";
    write_text(runs_file, listing.str());
    for (int64_t offset = 0; offset < count; offset += chunk) {
      const int64_t tasks = std::min(chunk, count - offset);
      const std::string script = plan.folder + "/" + class_name(resources) + "-" + std::to_string(offset) + ".sbatch";
      write_text(script, array_script(plan, resources, runs_file, offset, tasks, experiment_name));
      jobs.push_back({dry_run ? "" : sbatch({script}, jobs), script, offset, tasks});
    }
  }
  const std::string script = plan.folder + "/merge.sbatch";
  write_text(script, merge_script(plan, experiment_name));
  if (!jobs.empty()) {
    std::string after;
    for (const auto& j : jobs) after += ":" + j.job_id;
    std::vector<std::string> args = {"--dependency=afterany" + after, "--kill-on-invalid-dep=yes", script};
    jobs.push_back({dry_run ? "" : sbatch(args, jobs), script, 0, 0});
  }
  if (!dry_run) {
    std::ofstream record(plan.folder + "/jobs.tsv", std::ios::app);
    for (const auto& j : jobs) record << j.job_id << "\t" << j.script << "\t" << j.offset << "\t" << j.tasks << "\n";
  }
  return jobs;
}

void requeue_this_job() {
  const char* array = std::getenv("SLURM_ARRAY_JOB_ID");
  const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
  const char* job = std::getenv("SLURM_JOB_ID");
  std::string id = array && task ? cat(array, "_", task) : job ? std::string(job) : "";
  if (id.empty()) throw Error("--requeue: this process is not a Slurm job (no SLURM_JOB_ID); the run was left incomplete, "
                              "run the same command again to resume it");
  CommandResult r = run_command({"scontrol", "requeue", id});
  if (r.exit_code != 0)
    throw Error(cat("`scontrol requeue ", id, "` failed (exit code ", r.exit_code, "): ", r.errors,
                    "; the run was left incomplete: resubmit the sweep to resume it"));
}

std::vector<SlurmJob> read_jobs_file(const std::string& folder) {
  std::vector<SlurmJob> jobs;
  std::ifstream in(folder + "/jobs.tsv");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    SlurmJob j;
    std::string offset, tasks;
    std::getline(fields, j.job_id, '\t');
    std::getline(fields, j.script, '\t');
    std::getline(fields, offset, '\t');
    std::getline(fields, tasks, '\t');
    if (j.job_id.empty()) continue;
    j.offset = std::atoll(offset.c_str());
    j.tasks = std::atoll(tasks.c_str());
    jobs.push_back(j);
  }
  return jobs;
}

}  // namespace abq::sweep

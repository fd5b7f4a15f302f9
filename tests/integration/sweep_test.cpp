// `abq sweep` (local backend), `abq merge`, `abq status` and a run stopped with SIGUSR1, as a
// user meets them. Expected values: the records `abq run` stores for the same runs in one process
// (the CPU engine is deterministic, so a run executed by a worker, or stopped and resumed, must
// store bit-identical metrics and site statistics: store::result_fingerprint), the merge rules of
// framework/store/merge_stores.h, and the texts the commands print.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "framework/store/merge_stores.h"
#include "framework/store/results_store.h"

namespace fs = std::filesystem;
using namespace abq;

namespace {

const std::string kFixtures = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/";

struct Result {
  int code;
  std::string output;
};

Result run_abq(const std::string& args) {
  FILE* pipe = popen((std::string(ABQ_BINARY) + " " + args + " 2>&1").c_str(), "r");
  std::string output;
  std::array<char, 4096> buf;
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), pipe)) > 0;) output.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string scratch(const std::string& name) {
  const std::string dir = fs::path(::testing::TempDir() + "/abq_sweep_" + name).lexically_normal().string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// run id -> result fingerprint of every complete run.
std::map<std::string, std::string> results_of(const std::string& path) {
  std::map<std::string, std::string> out;
  for (const auto& r : store::ResultsStore(path, store::OpenMode::existing).read_all())
    if (r.status == store::RunStatus::complete) out[r.run_id] = store::result_fingerprint(r);
  return out;
}

TEST(Sweep, LocalWorkersStoreWhatOneProcessStoresAndAResubmissionDoesNothing) {
  const std::string dir = scratch("local");
  const std::string reference = dir + "/reference.h5", results = dir + "/sweep.h5";
  ASSERT_EQ(run_abq("run " + kFixtures + "tiny_sweep.yaml -q --results " + reference).code, 0);

  const Result sweep = run_abq("sweep " + kFixtures + "tiny_sweep.yaml --jobs 2 --results " + results);
  ASSERT_EQ(sweep.code, 0) << sweep.output;
  EXPECT_TRUE(contains(sweep.output, "4 run(s), 0 complete in " + results + ", 0 complete in their task files, 4 to do"))
      << sweep.output;
  EXPECT_TRUE(contains(sweep.output, "merged 4 file(s) into " + results + ": 4 complete, 0 failed, 0 missing"))
      << sweep.output;
  const auto expected = results_of(reference);
  ASSERT_EQ(expected.size(), 4u);
  EXPECT_EQ(results_of(results), expected);
  for (const auto& [id, fingerprint] : expected) EXPECT_TRUE(fs::exists(results + ".sweep/tasks/" + id + ".h5")) << id;
  // The runs share one calibration data set: drawn once, read from the stage cache by the others.
  int hits = 0;
  for (const auto& r : store::ResultsStore(results, store::OpenMode::existing).read_all())
    hits += r.attributes.count("cache_calibration_windows") && r.attributes.at("cache_calibration_windows") == "hit";
  EXPECT_GE(hits, 2);

  const std::string bytes = read_text(results);
  const Result again = run_abq("sweep " + kFixtures + "tiny_sweep.yaml --jobs 2 --results " + results);
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_TRUE(contains(again.output, "4 complete in " + results + ", 0 complete in their task files, 0 to do")) << again.output;
  EXPECT_TRUE(contains(again.output, "nothing to do")) << again.output;
  EXPECT_EQ(read_text(results), bytes);

  const Result status = run_abq("status " + results);
  EXPECT_EQ(status.code, 0);
  EXPECT_TRUE(contains(status.output, "4 complete, 0 running, 0 interrupted, 0 failed, 0 not started")) << status.output;
}

TEST(Sweep, ARunCompleteOnlyInItsTaskFileIsMergedNotRerun) {
  const std::string dir = scratch("pending");
  const std::string results = dir + "/sweep.h5";
  ASSERT_EQ(run_abq("sweep " + kFixtures + "tiny_sweep.yaml --jobs 2 --results " + results).code, 0);
  fs::remove(results);  // the merge did not happen (a cancelled merge job): the task files are all there is
  const Result again = run_abq("sweep " + kFixtures + "tiny_sweep.yaml --results " + results);
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_TRUE(contains(again.output, "0 complete in " + results + ", 4 complete in their task files, 0 to do"))
      << again.output;
  EXPECT_EQ(results_of(results).size(), 4u);
}

TEST(Sweep, DryRunWritesSlurmArraysChunkedAtMaxArraySizeWithAnOffset) {
  const std::string dir = scratch("scripts");
  const std::string results = dir + "/sweep.h5";
  const Result dry = run_abq("sweep " + kFixtures + "tiny_sweep.yaml --backend slurm --dry-run --max-array-size 3 "
                             "--max-parallel 2 --time 10 --partition debug --results " + results);
  ASSERT_EQ(dry.code, 0) << dry.output;
  const std::string folder = results + ".sweep/";
  std::istringstream runs(read_text(folder + "cpu.runs"));
  int lines = 0;
  for (std::string line; std::getline(runs, line);) ++lines;
  EXPECT_EQ(lines, 4);
  const std::string first = read_text(folder + "cpu-0.sbatch"), second = read_text(folder + "cpu-3.sbatch");
  for (const char* line : {"#SBATCH --array=0-2%2\n", "#SBATCH --requeue\n", "#SBATCH --signal=B:USR1@120\n",
                           "#SBATCH --time=10\n", "#SBATCH --partition=debug\n", "OFFSET=0\n", "--stop-on' 'USR1' '--requeue'"})
    EXPECT_TRUE(contains(first, line)) << line << "\n" << first;
  EXPECT_TRUE(contains(second, "#SBATCH --array=0-0%2\n")) << second;
  EXPECT_TRUE(contains(second, "OFFSET=3\n")) << second;
  const std::string merge = read_text(folder + "merge.sbatch");
  EXPECT_TRUE(contains(merge, "' merge \"${tasks[@]}\" -o '" + results + "' --runs '" + folder + "runs.tsv'")) << merge;
  EXPECT_FALSE(fs::exists(folder + "jobs.tsv"));  // nothing submitted
}

TEST(Sweep, ClusterKeysAreValidatedWhereTheyAreWrittenAndKeepRunIds) {
  const std::string dir = scratch("cluster");
  const std::string file = dir + "/exp.yaml";
  std::ofstream(file) << "include: [" << kFixtures << "tiny_sweep.yaml]\n"
                      << "cluster: {backend: slurm, max_paralel: 4}\n";
  const Result bad = run_abq("sweep " + file + " --dry-run");
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(contains(bad.output, file + ":2:")) << bad.output;
  EXPECT_TRUE(contains(bad.output, "max_paralel")) << bad.output;
  EXPECT_TRUE(contains(bad.output, "max_parallel")) << bad.output;  // did you mean
  // A valid cluster key does not change what the runs are: the same file without it has the same run hashes.
  auto hashes = [&](const std::string& cluster_line) {
    std::ofstream(file) << "include: [" << kFixtures << "tiny_sweep.yaml]\n" << cluster_line;
    const Result config = run_abq("config " + file);
    EXPECT_EQ(config.code, 0) << config.output;
    std::vector<std::string> lines;
    std::istringstream in(config.output);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("# run ", 0) == 0) lines.push_back(line);
    return lines;
  };
  const auto with = hashes("cluster: {backend: slurm, max_parallel: 4, partition: gpu}\n");
  EXPECT_EQ(with.size(), 4u);
  EXPECT_EQ(with, hashes(""));
}

TEST(Merge, ReportsFailedRunsWithTheirErrorAndRunsNoTaskHolds) {
  const std::string dir = scratch("merge");
  const std::string task = dir + "/task.h5", out = dir + "/out.h5", listed = dir + "/runs.tsv";
  {
    store::ResultsStore s(task);
    s.begin_run("aaaa", {{"name", "w2"}});
    s.fail_run("aaaa", "calibration diverged at block 3\nmore detail");
  }
  std::ofstream(listed) << "aaaa\tw2\tcpu\nbbbb\tw3\tcpu\n";
  const Result merged = run_abq("merge " + task + " -o " + out + " --runs " + listed);
  EXPECT_EQ(merged.code, 1) << merged.output;
  EXPECT_TRUE(contains(merged.output, "  aaaa  w2  failed (added): calibration diverged at block 3\n")) << merged.output;
  EXPECT_TRUE(contains(merged.output, "  bbbb  w3  missing: no task file holds it")) << merged.output;
  EXPECT_TRUE(contains(merged.output, "0 complete, 1 failed, 1 missing; 1 record(s) written")) << merged.output;
  EXPECT_EQ(store::ResultsStore(out).status("aaaa"), store::RunStatus::failed);
}

// Starts abq, waits for `marker` in its output, sends `signal`, and returns the exit code and output.
Result run_abq_signalled_at(const std::vector<std::string>& args, const std::string& marker, int signal) {
  int out[2];
  if (pipe(out) != 0) return {-1, "pipe failed"};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    close(out[0]);
    std::vector<char*> argv{const_cast<char*>(ABQ_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(ABQ_BINARY, argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string output;
  bool sent = false;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof(buf))) > 0;) {
    output.append(buf, size_t(n));
    if (!sent && contains(output, marker)) {
      kill(pid, signal);
      sent = true;
    }
  }
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

TEST(Preemption, Usr1StopsAfterACommittedBlockAndTheResumedRunStoresWhatAnUninterruptedOneStores) {
  const std::string dir = scratch("usr1");
  const std::string reference = dir + "/reference.h5", results = dir + "/stopped.h5";
  const std::string file = kFixtures + "tiny_resume.yaml";
  ASSERT_EQ(run_abq("run " + file + " -q --results " + reference).code, 0);

  const Result stopped = run_abq_signalled_at({"run", file, "--results", results, "--stop-on", "USR1"},
                                              "calibration: block 1/6 done", SIGUSR1);
  EXPECT_EQ(stopped.code, 1) << stopped.output;
  EXPECT_TRUE(contains(stopped.output, "stopped on request after calibration block ")) << stopped.output;
  EXPECT_TRUE(contains(stopped.output, "abq run: stopped on SIGUSR1; the run is incomplete in " + results)) << stopped.output;
  EXPECT_FALSE(contains(stopped.output, "calibration: block 5/6 done")) << stopped.output;
  const auto records = store::ResultsStore(results, store::OpenMode::existing).read_all();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].status, store::RunStatus::running);
  EXPECT_TRUE(contains(records[0].attributes.at("interrupted"), "stopped on request after calibration block"));

  const Result resumed = run_abq("run " + file + " --results " + results);
  EXPECT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_TRUE(contains(resumed.output, "calibration: resuming at block ")) << resumed.output;
  EXPECT_EQ(results_of(results), results_of(reference));
  EXPECT_FALSE(fs::exists(results + ".calib"));  // checkpoints removed once the run is stored
}

}  // namespace

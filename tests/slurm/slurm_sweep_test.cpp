// `abq sweep --backend slurm` against a real one-node Slurm cluster (the fixture in
// CMakeLists.txt, tools/slurm_test_cluster.sh): a 4-run sweep through a job array and the merge
// job; a re-submission that submits nothing; a task killed with `scancel` that the next submission
// resumes; a task requeued with `scontrol requeue`, and one sent USR1 (the time-limit signal) that
// checkpoints and requeues itself, both resuming and completing. Expected values: the records
// `abq run` stores for the same runs in one process (the CPU engine is deterministic, so a run
// executed, stopped and resumed by Slurm must store bit-identical metrics and site statistics:
// store::result_fingerprint), and the lines the task scripts and abq print.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "framework/store/merge_stores.h"
#include "framework/store/results_store.h"

namespace fs = std::filesystem;
using namespace abq;

namespace {

const std::string kFixtures = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/";
const std::string kCluster = ABQ_SLURM_DIR;

struct Result {
  int code;
  std::string output;
};

Result shell(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::string output;
  std::array<char, 4096> buf;
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), pipe)) > 0;) output.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

Result abq(const std::string& args) { return shell(std::string(ABQ_BINARY) + " " + args); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string scratch(const std::string& name) {
  const std::string dir = fs::path(::testing::TempDir() + "/abq_slurm_" + name).lexically_normal().string();
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::map<std::string, std::string> results_of(const std::string& path) {
  std::map<std::string, std::string> out;
  for (const auto& r : store::ResultsStore(path, store::OpenMode::existing).read_all())
    if (r.status == store::RunStatus::complete) out[r.run_id] = store::result_fingerprint(r);
  return out;
}

// The job ids `abq sweep` printed ("submitted job 12 ...").
std::vector<std::string> submitted_jobs(const std::string& output) {
  std::vector<std::string> ids;
  std::regex pattern("submitted job ([0-9]+) ");
  for (auto it = std::sregex_iterator(output.begin(), output.end(), pattern); it != std::sregex_iterator(); ++it)
    ids.push_back((*it)[1]);
  return ids;
}

// Waits until squeue lists none of `ids` (arrays included); false after `seconds`.
bool wait_until_gone(const std::vector<std::string>& ids, int seconds) {
  for (int i = 0; i < seconds * 2; ++i) {
    const Result q = shell("squeue -h -o %A");
    bool any = false;
    std::istringstream in(q.output);
    for (std::string line; std::getline(in, line);)
      for (const auto& id : ids) any = any || line == id;
    if (q.code == 0 && !any) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return false;
}

// Waits until `path` contains `text`; false after `seconds`.
bool wait_for_text(const std::string& path, const std::string& text, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (contains(read_text(path), text)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

class SlurmSweep : public ::testing::Test {
 protected:
  void SetUp() override {
    if (fs::exists(kCluster + "/unavailable"))
      GTEST_SKIP() << "Slurm cannot start on this machine: " << read_text(kCluster + "/unavailable");
    if (!fs::exists(kCluster + "/pids"))
      GTEST_SKIP() << "no test cluster at " << kCluster << ": run these tests through ctest (ctest -L slurm), whose "
                   << "fixture starts it";
    setenv("SLURM_CONF", (kCluster + "/slurm.conf").c_str(), 1);
  }

  // The one run of tiny_resume.yaml, as `abq run` stores it (computed once).
  static const std::map<std::string, std::string>& resume_reference() {
    static const std::map<std::string, std::string> reference = [] {
      const std::string path = scratch("resume_reference") + "/reference.h5";
      EXPECT_EQ(abq("run " + kFixtures + "tiny_resume.yaml -q --threads 1 --results " + path).code, 0);
      return results_of(path);
    }();
    return reference;
  }

  // Submits tiny_resume.yaml, waits for its task to commit calibration block 1, runs `interrupt`
  // (given the task's job id) and waits for every job to finish. Returns the task's log.
  std::string interrupted_sweep(const std::string& results, const std::string& interrupt) {
    const Result sweep = abq("sweep " + kFixtures + "tiny_resume.yaml --backend slurm --results " + results);
    EXPECT_EQ(sweep.code, 0) << sweep.output;
    const auto jobs = submitted_jobs(sweep.output);
    EXPECT_EQ(jobs.size(), 2u) << sweep.output;
    if (jobs.size() != 2) return "";
    const std::string log = results + ".sweep/logs/" + jobs[0] + "_0.out";
    EXPECT_TRUE(wait_for_text(log, "calibration: block 1/6 done", 120)) << read_text(log);
    const Result stop = shell(interrupt + " " + jobs[0] + "_0");
    EXPECT_EQ(stop.code, 0) << interrupt << ": " << stop.output;
    EXPECT_TRUE(wait_until_gone(jobs, 300)) << shell("squeue").output << read_text(log);
    return read_text(log);
  }
};

TEST_F(SlurmSweep, FourRunsThroughAnArrayAndTheMergeJobAndAResubmissionSubmitsNothing) {
  const std::string dir = scratch("array");
  const std::string reference = dir + "/reference.h5", results = dir + "/sweep.h5";
  ASSERT_EQ(abq("run " + kFixtures + "tiny_sweep.yaml -q --threads 1 --results " + reference).code, 0);

  const Result sweep = abq("sweep " + kFixtures + "tiny_sweep.yaml --backend slurm --max-parallel 2 --results " + results);
  ASSERT_EQ(sweep.code, 0) << sweep.output;
  const auto jobs = submitted_jobs(sweep.output);
  ASSERT_EQ(jobs.size(), 2u) << sweep.output;  // one array (4 cpu runs), one merge job
  EXPECT_TRUE(contains(sweep.output, "submitted job " + jobs[0] + " array of 4 task(s)")) << sweep.output;
  ASSERT_TRUE(wait_until_gone(jobs, 300)) << shell("squeue").output;

  EXPECT_EQ(results_of(results), results_of(reference));
  const std::string merge_log = read_text(results + ".sweep/logs/merge_" + jobs[1] + ".out");
  EXPECT_TRUE(contains(merge_log, "4 complete, 0 failed, 0 missing")) << merge_log;
  const Result status = abq("status " + results);
  EXPECT_TRUE(contains(status.output, "4 complete, 0 running, 0 interrupted, 0 failed, 0 not started")) << status.output;

  const std::string submitted = read_text(results + ".sweep/jobs.tsv");
  const Result again = abq("sweep " + kFixtures + "tiny_sweep.yaml --backend slurm --results " + results);
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_TRUE(contains(again.output, "4 complete in " + results + ", 0 complete in their task files, 0 to do")) << again.output;
  EXPECT_TRUE(contains(again.output, "nothing to do")) << again.output;
  EXPECT_TRUE(submitted_jobs(again.output).empty());
  EXPECT_EQ(read_text(results + ".sweep/jobs.tsv"), submitted);
}

TEST_F(SlurmSweep, ATaskKilledWithScancelIsMergedAsFailedAndTheNextSubmissionResumesIt) {
  const std::string results = scratch("scancel") + "/sweep.h5";
  const std::string log = interrupted_sweep(results, "scancel");
  EXPECT_FALSE(contains(log, "calibration: block 5/6 done")) << log;
  const Result status = abq("status " + results);
  EXPECT_TRUE(contains(status.output, "1 failed") || contains(status.output, "1 interrupted")) << status.output;
  EXPECT_EQ(store::ResultsStore(results, store::OpenMode::existing).read_all().at(0).status, store::RunStatus::failed);

  const Result again = abq("sweep " + kFixtures + "tiny_resume.yaml --backend slurm --results " + results);
  ASSERT_EQ(again.code, 0) << again.output;
  const auto jobs = submitted_jobs(again.output);
  ASSERT_EQ(jobs.size(), 2u) << again.output;
  ASSERT_TRUE(wait_until_gone(jobs, 300)) << shell("squeue").output;
  const std::string resumed = read_text(results + ".sweep/logs/" + jobs[0] + "_0.out");
  EXPECT_TRUE(contains(resumed, "calibration: resuming at block ")) << resumed;
  EXPECT_EQ(results_of(results), resume_reference());
}

TEST_F(SlurmSweep, ATaskRequeuedWithScontrolResumesAndCompletes) {
  const std::string results = scratch("requeue") + "/sweep.h5";
  const std::string log = interrupted_sweep(results, "scontrol requeue");
  EXPECT_TRUE(contains(log, "(restart 1)")) << log;
  EXPECT_TRUE(contains(log, "calibration: resuming at block ")) << log;
  EXPECT_EQ(results_of(results), resume_reference());
}

TEST_F(SlurmSweep, Usr1BeforeTheTimeLimitCheckpointsRequeuesAndTheTaskResumes) {
  const std::string results = scratch("usr1") + "/sweep.h5";
  const std::string log = interrupted_sweep(results, "scancel --signal=USR1 --batch");
  EXPECT_TRUE(contains(log, "stopped on request after calibration block ")) << log;
  EXPECT_TRUE(contains(log, "abq run: stopped on SIGUSR1; requeueing this job")) << log;
  EXPECT_TRUE(contains(log, "(restart 1)")) << log;
  EXPECT_TRUE(contains(log, "calibration: resuming at block ")) << log;
  EXPECT_EQ(results_of(results), resume_reference());
}

}  // namespace

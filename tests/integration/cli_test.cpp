// The `abq` binary as a user meets it: exit codes (0 ok, 1 runtime failure, 2 usage or config
// error), pinned error text, and a run killed with SIGKILL that the next `abq run` completes.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "framework/store/results_store.h"

namespace fs = std::filesystem;

namespace {

const std::string kFixtures = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/experiments/";

struct Result {
  int code;
  std::string output;  // stdout and stderr
};

Result run_abq(const std::string& args) {
  std::string command = std::string(ABQ_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) output.append(buf.data(), n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// run_abq with writes limited to files of at most `max_file_bytes` (RLIMIT_FSIZE; SIGXFSZ ignored, so
// a write past the limit fails with EFBIG as on a full disk instead of killing abq).
Result run_abq_with_file_limit(const std::vector<std::string>& args, size_t max_file_bytes) {
  int out[2];
  if (pipe(out) != 0) return {-1, "pipe failed"};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    close(out[0]);
    signal(SIGXFSZ, SIG_IGN);
    rlimit limit{max_file_bytes, max_file_bytes};
    setrlimit(RLIMIT_FSIZE, &limit);
    std::vector<char*> argv{const_cast<char*>(ABQ_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(ABQ_BINARY, argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string output;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof(buf))) > 0;) output.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

std::string temp_results(const std::string& name) {
  std::string path = ::testing::TempDir() + "/abq_cli_" + name + ".h5";
  fs::remove(path);
  return path;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST(Cli, UsageAndHelp) {
  EXPECT_EQ(run_abq("").code, 2);
  auto help = run_abq("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_TRUE(contains(help.output, "run ")) << help.output;
  auto typo = run_abq("rnu x.yaml");
  EXPECT_EQ(typo.code, 2);
  EXPECT_TRUE(contains(typo.output, "unknown command 'rnu' (did you mean 'run'?)")) << typo.output;
  for (const char* cmd : {"run", "eval", "config", "validate", "show", "describe", "allocate", "bench"}) {
    auto r = run_abq(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_TRUE(contains(r.output, "usage: abq " + std::string(cmd))) << r.output;
  }
  EXPECT_EQ(run_abq("run").code, 2);                      // missing FILE
  EXPECT_EQ(run_abq("run --no-such-flag x.yaml").code, 2);
}

// abq bench prints measured figures (no fixed values to compare): one row per run and shape, the
// byte counts of fp32 and packed weights, and the backend that ran.
TEST(Cli, BenchPrintsBytesAndRatesOfBothExecutions) {
  auto r = run_abq("bench " + kFixtures + "tiny_packed.yaml --linears 8x200 --m 3 --repeats 1 --threads 1");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "M=3 packed tok/s")) << r.output;
  // 8 x 256 (padded) codes at 4 bits, 8 scales and 8 zero-points; the fp32 weight is 8 x 200 x 4.
  EXPECT_TRUE(contains(r.output, "linear 8x200")) << r.output;
  EXPECT_TRUE(contains(r.output, " 6400 ")) << r.output;
  EXPECT_TRUE(contains(r.output, " 1088 ")) << r.output;
  EXPECT_TRUE(contains(r.output, "packed backend: kernels/cpu")) << r.output;
  EXPECT_EQ(run_abq("bench " + kFixtures + "tiny_packed.yaml --linears 8by200").code, 2);
}

TEST(Cli, ConfigErrorsPointIntoTheFile) {
  auto r = run_abq("validate " + kFixtures + "bad_keys.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.output, "bad_keys.yaml:5:")) << r.output;
  EXPECT_TRUE(contains(r.output, "unknown key 'granularty'")) << r.output;
  EXPECT_TRUE(contains(r.output, "did you mean 'granularity'?")) << r.output;
  EXPECT_TRUE(contains(r.output, "[1, 16]")) << r.output;  // bits: 17 is out of range
  EXPECT_FALSE(contains(r.output, "terminate called")) << r.output;

  auto missing = run_abq("config " + kFixtures + "no_such_file.yaml");
  EXPECT_EQ(missing.code, 2);
  EXPECT_TRUE(contains(missing.output, "no_such_file.yaml")) << missing.output;

  auto bad_set = run_abq("config " + kFixtures + "tiny_pipeline.yaml --set quant.weights.bits=99");
  EXPECT_EQ(bad_set.code, 2);
  EXPECT_TRUE(contains(bad_set.output, "--set quant.weights.bits=99")) << bad_set.output;
}

TEST(Cli, DescribeListsComponentsAndTheirOptions) {
  auto all = run_abq("describe");
  EXPECT_EQ(all.code, 0) << all.output;
  for (const char* name : {"rtn", "gptq", "smoothquant", "awq", "uniform", "perplexity", "zero_shot"})
    EXPECT_TRUE(contains(all.output, name)) << name << "\n" << all.output;
  auto gptq = run_abq("describe gptq");
  EXPECT_EQ(gptq.code, 0) << gptq.output;
  EXPECT_TRUE(contains(gptq.output, "block_size")) << gptq.output;
  auto experiment = run_abq("describe experiment");
  EXPECT_TRUE(contains(experiment.output, "calibration")) << experiment.output;
  auto typo = run_abq("describe gtpq");
  EXPECT_EQ(typo.code, 2) << typo.output;
  EXPECT_TRUE(contains(typo.output, "did you mean 'gptq'?")) << typo.output;
}

TEST(Cli, AllocatePrintsThePlanAndThePredictedCurveWithoutQuantizing) {
  const std::string set =
      " --set 'quant.allocation={type: mixed, measure: heuristic, budget: {avg_bits: 3.3}, pareto_points: 3, "
      "candidates: [{bits: 2}, {bits: 3}, {bits: 4}]}'";
  auto r = run_abq("allocate " + kFixtures + "tiny_pipeline.yaml --only rtn-w4a8 -q --candidates" + set);
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "run rtn-w4a8: allocation mixed, setting W")) << r.output;
  EXPECT_TRUE(contains(r.output, "layers.1.mlp.down_proj.weight")) << r.output;
  EXPECT_TRUE(contains(r.output, "predicted Pareto curve")) << r.output;
  EXPECT_TRUE(contains(r.output, "allocation_measure: heuristic")) << r.output;
  auto bad = run_abq("allocate " + kFixtures + "tiny_pipeline.yaml --only rtn-w4a8 -q --set 'quant.allocation={type: mixed, "
                     "measure: hesian, budget: {avg_bits: 3}, candidates: [{bits: 2}]}'");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_TRUE(contains(bad.output, "hesian")) << bad.output;
}

TEST(Cli, ConfigPrintsResolvedRuns) {
  auto r = run_abq("config " + kFixtures + "tiny_pipeline.yaml");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "# run rtn-w4a8")) << r.output;
  EXPECT_TRUE(contains(r.output, "granularity: per_channel")) << r.output;  // a default, filled in
}

TEST(Cli, RunShowAndRuntimeFailure) {
  std::string results = temp_results("run");
  auto ok = run_abq("run -q " + kFixtures + "tiny_pipeline.yaml --only fp --results " + results);
  EXPECT_EQ(ok.code, 0) << ok.output;
  auto show = run_abq("show " + results);
  EXPECT_EQ(show.code, 0) << show.output;
  EXPECT_TRUE(contains(show.output, "ppl:heldout")) << show.output;
  EXPECT_TRUE(contains(show.output, "complete")) << show.output;
  auto stages = run_abq("show " + results + " --timings");
  EXPECT_EQ(stages.code, 0) << stages.output;
  EXPECT_TRUE(contains(stages.output, "eval:perplexity")) << stages.output;

  // A data file that does not exist is a runtime failure (exit 1), recorded as failed; the
  // earlier complete run stays intact.
  auto bad = run_abq("run -q " + kFixtures + "tiny_pipeline.yaml --only rtn-w4a8 --results " + results +
                 " --set eval.0.data=/nonexistent/heldout.txt");
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_TRUE(contains(bad.output, "/nonexistent/heldout.txt")) << bad.output;
  abq::store::ResultsStore store(results);
  int complete = 0, failed = 0;
  for (const auto& rec : store.read_all()) {
    complete += rec.status == abq::store::RunStatus::complete;
    failed += rec.status == abq::store::RunStatus::failed;
  }
  EXPECT_EQ(complete, 1);
  EXPECT_EQ(failed, 1);
}

TEST(Cli, ShowOfAMissingStoreCreatesNothing) {
  const std::string dir = ::testing::TempDir() + "/abq_cli_typo_dir";
  fs::remove_all(dir);
  auto r = run_abq("show " + dir + "/typo.h5");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "no results store '" + dir + "/typo.h5': no such file")) << r.output;
  EXPECT_FALSE(fs::exists(dir));
}

// A store write that runs out of space (here a file-size limit) fails the run cleanly: exit 1, the
// run recorded failed with an error naming the file, the earlier run intact.
TEST(Cli, RunThatCannotWriteItsResultsFailsCleanly) {
  const std::string results = temp_results("disk_full");
  auto ok = run_abq("run -q " + kFixtures + "tiny_pipeline.yaml --only fp --results " + results);
  ASSERT_EQ(ok.code, 0) << ok.output;
  const size_t before = fs::file_size(results);
  // Enough for begin_run and fail_run (a few attributes: the store grows by about 6.6 kB), not for
  // finish_run's tables (metrics, sites, plan: about 25 kB more).
  auto r = run_abq_with_file_limit({"run", "-q", kFixtures + "tiny_pipeline.yaml", "--only", "rtn-w4a8", "--results",
                                    results}, before + 12000);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "cannot write '" + results + ".tmp': File too large")) << r.output;
  abq::store::ResultsStore store(results);
  int complete = 0, failed = 0;
  for (const auto& rec : store.read_all()) {
    complete += rec.status == abq::store::RunStatus::complete;
    if (rec.status == abq::store::RunStatus::failed) {
      ++failed;
      EXPECT_TRUE(contains(rec.attributes.at("error"), results + ".tmp")) << rec.attributes.at("error");
    }
  }
  EXPECT_EQ(complete, 1);
  EXPECT_EQ(failed, 1);
  EXPECT_FALSE(fs::exists(results + ".tmp"));
}

// `abq eval` quantizes nothing: every variant of the fixture collapses to an fp evaluation, and
// all of them report the same perplexity.
TEST(Cli, EvalQuantizesNothing) {
  std::string results = temp_results("eval");
  auto r = run_abq("eval -q " + kFixtures + "tiny_pipeline.yaml --results " + results);
  EXPECT_EQ(r.code, 0) << r.output;
  abq::store::ResultsStore store(results);
  auto runs = store.read_all();
  ASSERT_FALSE(runs.empty());
  double first = NAN;
  for (const auto& rec : runs) {
    EXPECT_EQ(rec.status, abq::store::RunStatus::complete);
    EXPECT_EQ(rec.attributes.at("setting"), "W16A16KV16");
    EXPECT_TRUE(rec.sites.empty());
    for (const auto& m : rec.metrics)
      if (m.metric == "ppl") {
        if (std::isnan(first)) first = m.value;
        EXPECT_DOUBLE_EQ(m.value, first);
      }
  }
  EXPECT_FALSE(std::isnan(first));
}

TEST(Cli, KilledRunIsIncompleteAndTheRerunCompletesIt) {
  std::string results = temp_results("kill");
  std::string fixture = kFixtures + "tiny_pipeline.yaml";
  const char* set = "eval.0.max_windows=120";  // long enough to be killed mid-evaluation
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execl(ABQ_BINARY, "abq", "run", "-q", fixture.c_str(), "--only", "rtn-w4a8", "--results", results.c_str(),
          "--set", set, (char*)nullptr);
    _exit(127);
  }
  // Wait until the run is recorded as running, then kill the process without warning.
  bool seen_running = false;
  for (int i = 0; i < 3000 && !seen_running; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!fs::exists(results)) continue;
    try {
      abq::store::ResultsStore store(results);
      seen_running = store.run_ids().size() == 1;
    } catch (const std::exception&) {
    }
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(seen_running);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  {
    abq::store::ResultsStore store(results);
    auto runs = store.read_all();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, abq::store::RunStatus::running);
  }
  auto show = run_abq("show " + results);
  EXPECT_TRUE(contains(show.output, "incomplete")) << show.output;

  auto rerun = run_abq("run -q " + fixture + " --only rtn-w4a8 --results " + results + " --set " + set);
  EXPECT_EQ(rerun.code, 0) << rerun.output;
  abq::store::ResultsStore store(results);
  auto runs = store.read_all();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, abq::store::RunStatus::complete);
}

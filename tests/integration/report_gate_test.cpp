// `abq report` on the tiny model's stored results (tests/fixtures/report/): the CI gate passes on
// the runs of tiny_gate.yaml against the regression reference recorded from them
// (tiny_reference.yaml; weight-only runs are deterministic), and fails, naming the RTN cell, when
// the same experiment runs a changed quantizer under the same setting label (per-tensor instead
// of per-channel scales: +0.20 % perplexity against a 0.01 % tolerance). --rescore recomputes the
// stored ARC-Easy accuracies from the per-choice table and finds the stored numbers; a spec typo
// exits 2 at file:line:col.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

const std::string kFixtures = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/report/";

struct Result {
  int code;
  std::string output;
};

Result run(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::string output;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) output.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

Result abq(const std::string& args) { return run(std::string(ABQ_BINARY) + " " + args); }

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The two stores, made once per test process: ctest runs each test in a process of its own, in
// parallel, so the folder is per process.
class ReportGate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::path(::testing::TempDir()) / ("report_gate." + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const std::string experiment = kFixtures + "tiny_gate.yaml";
    pass_run_ = abq("run " + experiment + " --results " + (dir_ / "pass.h5").string());
    fail_run_ = abq("run " + experiment + " --results " + (dir_ / "fail.h5").string() +
                    " --set quant.weights.granularity=per_tensor");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_;
  static Result pass_run_, fail_run_;
};
fs::path ReportGate::dir_;
Result ReportGate::pass_run_, ReportGate::fail_run_;

}  // namespace

TEST_F(ReportGate, PassesOnTheRecordedRuns) {
  ASSERT_EQ(pass_run_.code, 0) << pass_run_.output;
  const fs::path out = dir_ / "pass";
  const Result r = abq("report " + (dir_ / "pass.h5").string() + " --spec " + kFixtures + "tiny_gate_spec.yaml --out " + out.string() + " --check --no-plots");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("gates: PASS, 5 cell(s) compared, 0 failing"), std::string::npos) << r.output;
  const std::string tex = read(out / "tiny_gate.tex");
  EXPECT_NE(tex.find("\\toprule"), std::string::npos);
  EXPECT_NE(tex.find("\\multirow{2}{*}{W4A16} & RTN & \\textbf{258.651} & \\textbf{258.651} & 0.000"), std::string::npos)
      << tex;
  for (const char* file : {"tiny_gate.md", "tiny_gate.csv", "cells.csv", "index.html", "report.md", "gates.txt"})
    EXPECT_TRUE(fs::exists(out / file)) << file;
}

TEST_F(ReportGate, FailsOnAChangedQuantizerNamingTheCell) {
  ASSERT_EQ(fail_run_.code, 0) << fail_run_.output;
  const Result r = abq("report " + (dir_ / "fail.h5").string() + " --spec " + kFixtures + "tiny_gate_spec.yaml --out " +
                       (dir_ / "fail").string() + " --check --no-plots");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL tiny_gate: W4A16KV16 RTN / tiny-random held-out: ours 259.2 vs paper 258.7"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("W16A16KV16 FP /"), std::string::npos) << r.output;  // FP is unchanged
}

TEST_F(ReportGate, RescoreFindsTheStoredAccuracies) {
  ASSERT_EQ(pass_run_.code, 0) << pass_run_.output;
  const Result r = abq("report " + (dir_ / "pass.h5").string() + " --out " + (dir_ / "rescore").string() +
                       " --rescore --no-plots");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find(", rescored "), std::string::npos) << r.output;  // every stored number reproduced
  EXPECT_NE(r.output.find("arc_easy: added acc_norm_token"), std::string::npos) << r.output;
}

TEST_F(ReportGate, SpecTypoExitsTwoAtItsLine) {
  const fs::path spec = dir_ / "typo.yaml";
  std::ofstream(spec) << "tables:\n  - columns: [{metric: ppl, dataset: heldout, decimal: 3}]\n";
  const Result r = abq("report " + (dir_ / "pass.h5").string() + " --spec " + spec.string() + " --out " +
                       (dir_ / "typo").string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(spec.string() + ":2:47: unknown key 'decimal' in tables[0].columns[0]"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("did you mean 'decimals'?"), std::string::npos) << r.output;
}

TEST_F(ReportGate, PlotsWithMatplotlib) {
  if (run("python3 -c 'import matplotlib, h5py'").code != 0)
    GTEST_SKIP() << "python3 with matplotlib and h5py is not installed (tools/setup.sh installs them)";
  ASSERT_EQ(pass_run_.code, 0) << pass_run_.output;
  const fs::path out = dir_ / "plots";
  const Result r = abq("report " + (dir_ / "pass.h5").string() + " --spec " + kFixtures + "tiny_gate_spec.yaml --out " +
                       out.string());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("warning: no plots"), std::string::npos) << r.output;
  for (const char* plot : {"ppl_vs_bits_heldout", "acc_vs_bytes", "sqnr_rtn-w4a16", "calibration_gptq-w4a16"})
    for (const char* ext : {".png", ".pdf"}) EXPECT_GT(fs::file_size(out / "plots" / (std::string(plot) + ext)), 1000u) << plot;
  EXPECT_NE(read(out / "index.html").find("<img src=\"plots/ppl_vs_bits_heldout.png\""), std::string::npos);
}

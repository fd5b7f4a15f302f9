// framework/ keeps the layering that framework/README.md states: no include of evaluators/ or
// experiments/, kernels/ only from the folder whose row lists it, and each folder includes only
// the folders its table row lists;
// evaluators/ includes nothing of experiments/. The expected values are the README's own table;
// the planted-tree cases are written by hand so the checker is seen to fail.
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/unit/layering/include_scan.h"
#include "tests/unit/layering/layering_rules.h"
#include "tests/unit/layering/may_use_table.h"

namespace abq::layering {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

const fs::path kFramework = fs::path(ABQ_SOURCE_DIR) / "framework";

TEST(Layering, FrameworkKeepsTheReadmeTable) {
  const auto table = parse_may_use_table(read_file(kFramework / "README.md"), framework_folders(kFramework));
  const auto violations = layering_violations(kFramework, table);
  EXPECT_TRUE(violations.empty()) << violations.size() << " include(s) break the layering:\n" << joined(violations);
}

TEST(Layering, EvaluatorsIncludeNothingOfExperiments) {
  // One layer up the same rule holds: evaluators/ sits below experiments/ (runner, cli).
  std::vector<std::string> violations;
  for (const auto& inc : quoted_includes(fs::path(ABQ_SOURCE_DIR) / "evaluators"))
    if (inc.target.rfind("experiments/", 0) == 0) violations.push_back(describe(inc));
  EXPECT_TRUE(violations.empty()) << "evaluators/ includes experiments/:\n" << joined(violations);
}

TEST(Layering, TheScanSeesTheWholeTree) {
  // A scan that silently read nothing would pass the test above.
  const auto includes = quoted_includes(kFramework);
  EXPECT_GT(includes.size(), 300u);
  bool saw_cpp = false, saw_h = false;
  for (const auto& inc : includes) {
    saw_cpp = saw_cpp || fs::path(inc.file).extension() == ".cpp";
    saw_h = saw_h || fs::path(inc.file).extension() == ".h";
  }
  EXPECT_TRUE(saw_cpp && saw_h);
}

class PlantedTree : public ::testing::Test {
 protected:
  fs::path root_ = fs::path(::testing::TempDir()) / ("abq_layering_" + std::to_string(::getpid())) / "framework";
  void SetUp() override {
    fs::remove_all(root_.parent_path());
    fs::create_directories(root_ / "core");
    fs::create_directories(root_ / "model" / "sub");
  }
  void TearDown() override { fs::remove_all(root_.parent_path()); }
  void write(const std::string& rel, const std::string& text) { std::ofstream(root_ / rel) << text; }
  std::set<std::string> folders() { return framework_folders(root_); }
};

TEST_F(PlantedTree, IncludesOfTheLayersAboveAreNamedWithFileAndLine) {
  write("core/a.h", "#pragma once\n");
  write("model/sub/b.cpp",
        "#include \"framework/core/a.h\"\n"
        "  #  include \"evaluators/registry.h\"  // spaced\n"
        "#include \"experiments/runner/run_experiment.h\"\n"
        "#include \"kernels/bitplane_gemm.h\"\n"
        "#include <torch/torch.h>\n");
  const MayUse table = {{"core", {}}, {"model", {"core"}}};
  EXPECT_EQ(joined(layering_violations(root_, table)),
            "framework/model/sub/b.cpp:2: #include \"evaluators/registry.h\": evaluators/ sits above framework/ "
            "(framework/README.md)\n"
            "framework/model/sub/b.cpp:3: #include \"experiments/runner/run_experiment.h\": experiments/ (runner, cli) "
            "sits above framework/ (framework/README.md)\n"
            "framework/model/sub/b.cpp:4: #include \"kernels/bitplane_gemm.h\": only the folder whose row lists "
            "kernels (the format adapter, framework/README.md) includes kernels/, not model/\n");
}

TEST_F(PlantedTree, OnlyTheRowListingKernelsIncludesKernels) {
  fs::create_directories(root_ / "packed");
  write("packed/adapter.cpp", "#include \"kernels/kernels.h\"\n#include \"framework/core/a.h\"\n");
  write("core/a.h", "#include \"kernels/kernels.h\"\n");
  const MayUse table = {{"core", {}}, {"model", {"core"}}, {"packed", {"core", kKernelsEntry}}};
  EXPECT_EQ(joined(layering_violations(root_, table)),
            "framework/core/a.h:1: #include \"kernels/kernels.h\": only the folder whose row lists kernels (the "
            "format adapter, framework/README.md) includes kernels/, not core/\n");
  const std::string readme = "| folder | holds | may use |\n|---|---|---|\n| core/ | errors | std only |\n"
                             "| packed/ | adapter | core, kernels (kernels.h only) |\n";
  const MayUse expected = {{"core", {}}, {"packed", {"core", "kernels"}}};
  EXPECT_EQ(parse_may_use_table(readme, framework_folders(root_)), expected);
}

TEST_F(PlantedTree, AFolderOutsideItsRowIsNamed) {
  write("core/a.cu", "#include \"framework/model/m.h\"\n");
  write("model/m.h", "#include \"framework/core/a.h\"\n#include \"framework/model/sub/x.h\"\n#include \"local.h\"\n");
  const MayUse table = {{"core", {}}, {"model", {"core"}}};
  EXPECT_EQ(joined(layering_violations(root_, table)),
            "framework/core/a.cu:1: #include \"framework/model/m.h\": core/ may use no other folder "
            "(framework/README.md), not model/\n"
            "framework/model/m.h:3: #include \"local.h\": framework headers are included by their path from the "
            "repository root (\"framework/<folder>/<file>\")\n");
}

TEST_F(PlantedTree, FoldersAndRowsMustMatch) {
  fs::create_directories(root_ / "quant");
  const MayUse table = {{"core", {}}, {"model", {"core"}}, {"gone", {}}};
  EXPECT_EQ(joined(layering_violations(root_, table)),
            "framework/quant/: no row in the table of framework/README.md\n"
            "framework/README.md: row gone/ names no folder under framework/\n");
}

TEST_F(PlantedTree, TheReadmeTableIsParsedStrictly) {
  const std::string readme =
      "| folder | holds | may use |\n|---|---|---|\n"
      "| core/ | errors | std only |\n"
      "| model/ | the decoder | core, core (again) |\n";
  const MayUse expected = {{"core", {}}, {"model", {"core"}}};
  EXPECT_EQ(parse_may_use_table(readme, folders()), expected);
  EXPECT_THROW(parse_may_use_table(readme + "| sub/ | x | cor |\n", folders()), std::runtime_error);  // typo
  EXPECT_THROW(parse_may_use_table(readme + "| core/ | twice | std only |\n", folders()), std::runtime_error);
  EXPECT_THROW(parse_may_use_table("no table here\n", folders()), std::runtime_error);
  EXPECT_THROW(quoted_includes(root_ / "missing"), std::runtime_error);
}

}  // namespace
}  // namespace abq::layering

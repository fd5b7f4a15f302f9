// Report specs: the shipped ones load, and mistakes are ConfigErrors at file:line:col with the
// key path (messages of framework/config/validate.h, pinned here for the spec's own keys).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "experiments/report/report_spec.h"
#include "framework/core/error.h"

namespace fs = std::filesystem;

namespace {

std::string write(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::string& path) {
  try {
    abq::report::load_report_spec(path);
  } catch (const abq::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ReportSpec, LoadsColumnsSettingsGates) {
  const std::string path = write("spec_ok.yaml",
                                 "references: [ref.yaml]\n"
                                 "runs: [{match: 'rtn-*', model: M, method: RTN}]\n"
                                 "tables:\n"
                                 "  - name: t\n"
                                 "    settings: [{id: W4A4KV4, label: W4A4}]\n"
                                 "    columns:\n"
                                 "      - {group: M, label: PIQA, metric: acc, dataset: piqa}\n"
                                 "      - {group: M, label: Avg, metric: acc, mean_of: [PIQA]}\n"
                                 "gates: [{metric: ppl, relative: 0.05}]\n");
  const auto spec = abq::report::load_report_spec(path);
  ASSERT_EQ(spec.tables.size(), 1u);
  EXPECT_EQ(spec.references[0], (fs::path(::testing::TempDir()) / "ref.yaml").lexically_normal().string());
  EXPECT_EQ(spec.runs[0].method, "RTN");
  EXPECT_EQ(spec.tables[0].settings[0].label, "W4A4");
  EXPECT_EQ(spec.tables[0].columns[0].decimals, 2);
  EXPECT_EQ(abq::report::column_paper_metric(spec.tables[0].columns[0]), "accuracy_pct");
  EXPECT_DOUBLE_EQ(spec.gates[0].relative, 0.05);
  EXPECT_TRUE(std::isnan(spec.gates[0].absolute));
  EXPECT_EQ(spec.z_critical, 1.96);
}

TEST(ReportSpec, TypoIsAnErrorAtItsKey) {
  const std::string path = write("spec_typo.yaml",
                                 "tables:\n"
                                 "  - name: t\n"
                                 "    colums: []\n");
  const std::string e = error_of(path);
  EXPECT_NE(e.find(path + ":3:5: unknown key 'colums' in tables[0]"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'columns'?"), std::string::npos) << e;
  EXPECT_NE(e.find("missing required key 'columns' in tables[0]"), std::string::npos) << e;
}

TEST(ReportSpec, AggregateOfUnknownColumnAndBadGate) {
  const std::string path = write("spec_bad.yaml",
                                 "tables:\n"
                                 "  - columns:\n"
                                 "      - {label: PIQA, metric: acc, dataset: piqa}\n"
                                 "      - {label: Avg, metric: acc, mean_of: [PIQA, ARC]}\n"
                                 "gates: [{metric: ppl, relative: 0.05, absolute: 1}]\n");
  const std::string e = error_of(path);
  EXPECT_NE(e.find("gates[0]: gate for ppl needs exactly one of relative, absolute"), std::string::npos) << e;
  // Schema problems come first; the aggregate check runs once the file validates.
  const std::string path2 = write("spec_bad2.yaml",
                                  "tables:\n"
                                  "  - columns:\n"
                                  "      - {label: PIQA, metric: acc, dataset: piqa}\n"
                                  "      - {label: Avg, metric: acc, mean_of: [PIQA, ARC]}\n");
  const std::string e2 = error_of(path2);
  EXPECT_NE(e2.find(path2 + ":4:51: no column labelled 'ARC' in group ''"), std::string::npos) << e2;
}

TEST(ReportSpec, ShippedSpecsLoad) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(std::string(ABQ_SOURCE_DIR) + "/configs/reports")) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    EXPECT_NO_THROW(abq::report::load_report_spec(entry.path().string())) << entry.path();
    for (const auto& ref : abq::report::load_report_spec(entry.path().string()).references)
      EXPECT_TRUE(fs::exists(ref)) << entry.path() << " names " << ref;
  }
  EXPECT_GE(count, 4);
}

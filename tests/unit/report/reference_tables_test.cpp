// results/reference/ against its source: every entry of every reference table equals, field by
// field, the entry of the YAML block of the same table in the transcription document
// (tests/fixtures/reference/reference-numbers.md, the team's transcription of the published
// tables), in the same order, and nothing is added or left out. The setting split (w/a/kv bits,
// group, bit balance) is checked against hand-read cases, and every cell named by
// results/reference/inconsistencies.yaml exists with the number recorded there.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "experiments/report/reference_table.h"

namespace fs = std::filesystem;
using abq::report::ReferenceEntry;
using abq::report::ReferenceTable;

namespace {

const std::string kReference = std::string(ABQ_SOURCE_DIR) + "/results/reference/";
const std::string kSpec = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/reference/reference-numbers.md";

std::map<std::string, ReferenceTable> load_all() {
  std::map<std::string, ReferenceTable> tables;
  for (const auto& e : fs::directory_iterator(kReference)) {
    if (e.path().extension() != ".yaml" || e.path().filename() == "inconsistencies.yaml") continue;
    ReferenceTable t = abq::report::load_reference_table(e.path().string());
    EXPECT_EQ(t.id + ".yaml", e.path().filename().string());
    tables[t.id] = std::move(t);
  }
  return tables;
}

// The ```yaml blocks of the transcription document, by table id.
std::map<std::string, YAML::Node> spec_blocks() {
  std::ifstream in(kSpec);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  std::map<std::string, YAML::Node> blocks;
  size_t at = 0;
  while ((at = s.find("```yaml\n", at)) != std::string::npos) {
    const size_t end = s.find("```", at + 8);
    YAML::Node block = YAML::Load(s.substr(at + 8, end - at - 8));
    if (block["table"] && block["entries"]) blocks[block["table"].as<std::string>()] = block;
    at = end + 3;
  }
  return blocks;
}

std::string text(const YAML::Node& n, const char* key) { return n[key] ? n[key].as<std::string>() : ""; }
double number(const YAML::Node& n, const char* key) { return n[key] ? n[key].as<double>() : NAN; }

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

const ReferenceEntry* find(const ReferenceTable& t, const std::string& model, const std::string& method,
                           const std::string& setting, const std::string& dataset, double value, bool paper_value) {
  for (const auto& e : t.entries)
    if (e.model == model && e.method == method && e.setting == setting && e.dataset == dataset &&
        same(paper_value ? e.paper_value : e.value, value))
      return &e;
  return nullptr;
}

}  // namespace

TEST(ReferenceTables, EveryEntryEqualsTheTranscription) {
  const auto tables = load_all();
  const auto blocks = spec_blocks();
  ASSERT_EQ(blocks.size(), 17u);
  ASSERT_EQ(tables.size(), blocks.size());
  size_t checked = 0;
  for (const auto& [id, block] : blocks) {
    ASSERT_TRUE(tables.count(id)) << "no results/reference/" << id << ".yaml";
    const ReferenceTable& t = tables.at(id);
    ASSERT_EQ(t.entries.size(), block["entries"].size()) << id;
    for (size_t i = 0; i < t.entries.size(); ++i) {
      const YAML::Node e = block["entries"][i];
      const ReferenceEntry& r = t.entries[i];
      SCOPED_TRACE(id + " entry " + std::to_string(i) + ": " + r.model + " " + r.method + " " + r.setting + " " +
                   r.dataset);
      EXPECT_EQ(r.model, text(e, "model"));
      EXPECT_EQ(r.method, text(e, "method"));
      EXPECT_EQ(r.setting, text(e, "setting"));
      EXPECT_EQ(r.dataset, text(e, "dataset"));
      EXPECT_EQ(r.metric, text(e, "metric"));
      EXPECT_EQ(r.protocol, text(e, "protocol"));
      EXPECT_PRED2(same, r.value, number(e, "value"));
      EXPECT_PRED2(same, r.paper_value, number(e, "paper_value"));
      EXPECT_EQ(r.printed, text(e, "printed"));
      EXPECT_EQ(r.source, text(e, "source"));
      EXPECT_EQ(r.note, text(e, "note"));
      EXPECT_EQ(r.baseline, text(e, "baseline"));
      EXPECT_EQ(r.hardware, text(e, "hardware"));
      EXPECT_EQ(r.unit, text(e, "unit"));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 863u);
}

TEST(ReferenceTables, SettingsSplitAsPrinted) {
  const auto tables = load_all();
  auto first = [&](const std::string& table, const std::string& setting) -> const ReferenceEntry& {
    for (const auto& e : tables.at(table).entries)
      if (e.setting == setting) return e;
    throw std::runtime_error("no " + setting + " in " + table);
  };
  // Weight-only: A16 means no activation and no KV quantization.
  EXPECT_EQ(first("abq_table4_weight_only_ppl", "W4A16").setting_id(), "W4A16KV16");
  // W2*: bit balance, the 5-level grid; stored with the '*' runs carry.
  EXPECT_EQ(first("abq_table4_weight_only_ppl", "W2*A16").setting_id(), "W2A16KV16*");
  EXPECT_EQ(first("omniquant_table1_weight_only_wikitext2", "W4A16g128").setting_id(), "W4A16KV16g128");
  // OmniQuant line: W4A4 also quantizes Q/K/V at 4 bits (spec §0).
  EXPECT_EQ(first("abq_table2_weight_activation_ppl", "W4A4").setting_id(), "W4A4KV4");
  EXPECT_EQ(first("abq_table2_weight_activation_ppl", "W2*A8").setting_id(), "W2A8KV8*");
  EXPECT_EQ(first("abq_table3_zero_shot", "FP16").setting_id(), "W16A16KV16");
  // Explicit KV wins; an anchor that does not say gets no KV (and no setting id).
  EXPECT_EQ(first("weight_activation_other_anchors", "W4A4KV16").setting_id(), "W4A4KV16");
  EXPECT_FALSE(first("weight_activation_other_anchors", "W8A8").kv_bits.has_value());
  EXPECT_EQ(first("weight_activation_other_anchors", "W8A8").setting_id(), "");
  // Text that is no WxAy setting keeps no bit widths.
  const ReferenceEntry& pr = first("reruns_vs_papers", "W4 (as labelled in the PR)");
  EXPECT_FALSE(pr.w_bits.has_value());
  EXPECT_EQ(pr.setting_id(), "");
}

TEST(ReferenceTables, PrintedNotationKept) {
  const auto tables = load_all();
  // ABQ-LLM Table 4 prints GPTQ W2A16 LLaMA-7B WikiText2 as "2.1e3" and LLaMA-2-7B C4 as "NAN".
  const auto& t4 = tables.at("abq_table4_weight_only_ppl");
  const ReferenceEntry* e = find(t4, "LLaMA-7B", "GPTQ", "W2A16", "wikitext2", 2100.0, false);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->printed, "2.1e3");
  bool nan_found = false;
  for (const auto& x : t4.entries)
    if (x.model == "LLaMA-2-7B" && x.method == "GPTQ" && x.setting == "W2A16" && x.dataset == "c4")
      nan_found = std::isnan(x.value);
  EXPECT_TRUE(nan_found);
  // The blank AffineQuant W2A16 LLaMA-13B C4 cell is left out, not zero.
  for (const auto& x : t4.entries)
    EXPECT_FALSE(x.model == "LLaMA-13B" && x.method == "AffineQuant" && x.setting == "W2A16" && x.dataset == "c4");
}

TEST(ReferenceTables, InconsistenciesNameExistingCells) {
  const auto tables = load_all();
  const YAML::Node doc = YAML::LoadFile(kReference + "inconsistencies.yaml");
  const YAML::Node list = doc["inconsistencies"];
  ASSERT_EQ(list.size(), 12u);  // spec §9 lists twelve
  int cells = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(list[i]["id"].as<int>(), int(i + 1));
    for (const auto& v : list[i]["values"]) {
      if (v["table"].IsNull()) continue;  // quoted by a source transcribed nowhere else
      const std::string table = v["table"].as<std::string>();
      ASSERT_TRUE(tables.count(table)) << table;
      const bool paper_value = bool(v["paper_value"]);
      const double value = paper_value ? v["paper_value"].as<double>() : v["value"].as<double>();
      EXPECT_NE(find(tables.at(table), v["model"].as<std::string>(), v["method"].as<std::string>(),
                     v["setting"].as<std::string>(), v["dataset"].as<std::string>(), value, paper_value),
                nullptr)
          << "inconsistency " << i + 1 << ": " << table << " " << v["model"] << " " << v["method"] << " = " << value;
      ++cells;
    }
  }
  EXPECT_EQ(cells, 30);
}

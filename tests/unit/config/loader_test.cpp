// Expected values are read by hand from the fixture files in tests/fixtures/config/ (line and
// column of each key counted in the file, 1-based) and from the merge rules in loader.h.
#include "framework/config/loader.h"

#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "framework/config/scalar.h"
#include "framework/core/error.h"

namespace abq::config {
namespace {

const std::string kDir = std::string(ABQ_SOURCE_DIR) + "/tests/fixtures/config/";

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const ConfigError& e) {
    return e.message();
  }
  return "(no error)";
}

TEST(Loader, IncludesMergeWithIncludingFileWinning) {
  const Document doc = load_config(kDir + "experiment.yaml");
  const YAML::Node& root = doc.root();
  EXPECT_FALSE(root["include"]);
  EXPECT_EQ(root["name"].Scalar(), "demo");
  EXPECT_EQ(root["model"]["dtype"].Scalar(), "float16");    // base.yaml only
  EXPECT_EQ(root["model"]["device"].Scalar(), "cuda");      // own key beats base.yaml's cpu
  EXPECT_EQ(root["quant"]["weights"]["bits"].Scalar(), "3");  // later include beats earlier
  EXPECT_EQ(root["quant"]["weights"]["group_size"].Scalar(), "128");
}

TEST(Loader, PositionsPointIntoTheFileEachValueCameFrom) {
  const Document doc = load_config(kDir + "experiment.yaml");
  const SourcePosition device = doc.locate({"model", "device"});
  EXPECT_EQ(device.describe(), kDir + "experiment.yaml:5:11");
  EXPECT_EQ(doc.locate({"model", "device"}, true).describe(), kDir + "experiment.yaml:5:3");
  EXPECT_EQ(doc.locate({"quant", "weights", "bits"}).describe(), kDir + "weights_w3.yaml:4:11");
  EXPECT_EQ(doc.locate({"quant", "weights", "group_size"}).describe(), kDir + "base.yaml:8:17");
  EXPECT_EQ(doc.locate({"model", "dtype"}).describe(), kDir + "base.yaml:3:10");
  ASSERT_NE(doc.source_line(kDir + "base.yaml", 8), nullptr);
  EXPECT_EQ(*doc.source_line(kDir + "base.yaml", 8), "    group_size: 128");
  EXPECT_EQ(doc.main_file(), kDir + "experiment.yaml");
}

TEST(Loader, NestedIncludesResolveRelativeToTheIncludingFile) {
  const Document doc = load_config(kDir + "nested_top.yaml");
  const YAML::Node& root = doc.root();
  EXPECT_EQ(root["model"]["dtype"].Scalar(), "bfloat16");  // sub/nested_mid.yaml beats base.yaml
  EXPECT_EQ(root["model"]["device"].Scalar(), "cpu");
  EXPECT_EQ(root["quant"]["weights"]["bits"].Scalar(), "4");
  EXPECT_EQ(root["quant"]["weights"]["group_size"].Scalar(), "64");
  EXPECT_EQ(doc.locate({"model", "dtype"}).describe(), kDir + "sub/nested_mid.yaml:3:10");
  EXPECT_EQ(doc.locate({"model", "device"}).describe(), kDir + "base.yaml:4:11");
}

TEST(Loader, IncludeCycleNamesTheFileAndLine) {
  const std::string a = kDir + "cycle_a.yaml", b = kDir + "cycle_b.yaml";
  EXPECT_EQ(error_of([&] { load_config(a); }),
            b + ":3:5: include cycle: " + a + " -> " + b + " -> " + a + "\n" +
                "  - cycle_a.yaml\n"
                "    ^ a file may not include itself, directly or through others");
}

TEST(Loader, MissingIncludeNamesTheFileAndLine) {
  EXPECT_EQ(error_of([&] { load_config(kDir + "missing_include.yaml"); }),
            kDir + "missing_include.yaml:2:22: cannot open included file '" + kDir +
                "does_not_exist.yaml': no such file\n"
                "include: [base.yaml, does_not_exist.yaml]\n"
                "                     ^ include paths name YAML files, relative to the including file");
}

TEST(Loader, MissingTopLevelFile) {
  EXPECT_EQ(error_of([&] { load_config(kDir + "nope.yaml"); }),
            "cannot open config file '" + kDir + "nope.yaml': no such file");
}

TEST(Loader, IncludeOfADirectoryIsAnError) {
  EXPECT_EQ(error_of([&] { parse_config("name: x\ninclude: [sub]\n", kDir + "x.yaml"); }),
            kDir + "x.yaml:2:11: cannot open included file '" + kDir + "sub': it is a directory, not a file\n"
                "include: [sub]\n"
                "          ^ include paths name YAML files, relative to the including file");
  EXPECT_EQ(error_of([&] { load_config(kDir + "sub"); }),
            "cannot open config file '" + kDir + "sub': it is a directory, not a file");
}

// /dev/zero never ends: reading it whole took all memory before.
TEST(Loader, IncludeOfADeviceIsAnError) {
  EXPECT_EQ(error_of([&] { parse_config("include: [/dev/zero]\n", "x.yaml"); }),
            "x.yaml:1:11: cannot open included file '/dev/zero': it is not a regular file (a device, FIFO or socket)\n"
            "include: [/dev/zero]\n"
            "          ^ include paths name YAML files, relative to the including file");
}

TEST(Loader, OversizedIncludeIsAnError) {
  const std::string big =
      (std::filesystem::path(::testing::TempDir()) / "oversized_fragment.yaml").lexically_normal().string();
  {
    std::ofstream out(big, std::ios::binary);
    out << "a: 1\n" << std::string((size_t(1) << 22), '#') << "\n";
  }
  const uintmax_t size = std::filesystem::file_size(big);
  EXPECT_EQ(error_of([&] { parse_config("include: " + big + "\n", "x.yaml"); }),
            "x.yaml:1:10: cannot open included file '" + big + "': it has " + std::to_string(size) +
                " bytes; config files are limited to 4194304 bytes\n"
                "include: " + big + "\n"
                "         ^ include paths name YAML files, relative to the including file");
  std::filesystem::remove(big);
}

// YAML::Load reads the first document only; the rest of the file was dropped without a word.
TEST(Loader, ASecondDocumentIsAnError) {
  EXPECT_EQ(error_of([] { parse_config("a: 1\n---\nb: 2\n", "x.yaml"); }),
            "x.yaml:3:1: a config file holds one YAML document; document 2 starts here\n"
            "b: 2\n"
            "^ remove the '---' line above it, or move it to a file of its own");
  EXPECT_EQ(error_of([] { parse_config("a: 1\n---\n---\n- b\n", "x.yaml"); }).substr(0, 70),
            "x.yaml:4:1: a config file holds one YAML document; document 3 starts h");
  // A stray ',' made YAML::LoadAll return empty documents until memory ran out.
  EXPECT_EQ(error_of([] { parse_config(", x\n", "x.yaml"); }).substr(0, 66),
            "x.yaml:1:1: YAML syntax error: the parser makes no progress here\n,");
  // An explicit start marker, or empty documents after the first, hold nothing to lose.
  EXPECT_EQ(parse_config("---\na: 1\n---\n", "x.yaml").root()["a"].Scalar(), "1");
}

TEST(Loader, SyntaxErrorPointsAtTheLine) {
  EXPECT_EQ(error_of([] { parse_config("a: 1\nb: [1, 2\nc: 3\n", "x.yaml"); }),
            "x.yaml:3:2: YAML syntax error: end of sequence flow not found\nc: 3\n ^");
}

TEST(Loader, DuplicateKeysAreReportedTogether) {
  EXPECT_EQ(error_of([] { parse_config("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n", "x.yaml"); }),
            "x.yaml:4:3: duplicate key 'c' in b\n  c: 2\n  ^ each key may appear once per map\n"
            "x.yaml:5:1: duplicate key 'a' in top level\na: 3\n^ each key may appear once per map");
}

TEST(Loader, TopLevelMustBeAMap) {
  EXPECT_EQ(error_of([] { parse_config("- 1\n- 2\n", "x.yaml"); }),
            "x.yaml:1:1: a config file must be a map of keys, got a list\n- 1\n^");
}

TEST(Loader, EmptyFileIsAnEmptyMap) {
  const Document doc = parse_config("# only a comment\n", "x.yaml");
  EXPECT_TRUE(doc.root().IsMap());
  EXPECT_EQ(doc.root().size(), 0u);
}

TEST(Loader, EmptyValuePointsAtItsKey) {
  const Document doc = parse_config("a:\nb: 2\n", "x.yaml");
  EXPECT_EQ(doc.locate({"a"}).describe(), "x.yaml:1:1");
}

TEST(Loader, MergeReplacesNonMapsWhole) {
  Document base = parse_config("q: {w: {bits: 4, g: 128}, list: [1, 2, 3]}\n", "base.yaml");
  const Document over = parse_config("q: {w: 8, list: [9]}\n", "over.yaml");
  merge_documents(base, over);
  EXPECT_EQ(base.root()["q"]["w"].Scalar(), "8");
  ASSERT_EQ(base.root()["q"]["list"].size(), 1u);
  EXPECT_EQ(base.root()["q"]["list"][0].Scalar(), "9");
  EXPECT_EQ(base.locate({"q", "w"}).describe(), "over.yaml:1:8");
  // The replaced map's children lost their positions: nothing points into base.yaml's {bits, g}.
  EXPECT_EQ(base.value_position({"q", "w", "bits"}), nullptr);
  EXPECT_EQ(base.value_position({"q", "list", "[2]"}), nullptr);
}

}  // namespace
}  // namespace abq::config

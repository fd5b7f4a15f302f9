// Seeded mutation fuzzing of experiment validation (`abq validate` = load_experiment) on the
// shipped YAML files. Every experiment under experiments/ and every fragment under configs/ (the
// latter behind a minimal name/results header) is mutated: byte flips, inserted and deleted bytes,
// truncations, line deletions / duplications / re-indentation, YAML syntax and hostile snippets
// (anchors and aliases, document markers, complex keys, invalid UTF-8, includes of devices and
// directories, huge numbers and sweeps), and scalar values replaced by boundary values. Mutants
// are written into a mirror of the two trees (real folders, files linked), so relative includes
// and data paths resolve as in the repository. Each mutant is validated, sometimes with a hostile
// --set; the only exception allowed out is abq::Error, and no input may take more than 10 s.
// Expected outcome: by construction (the property under test), not from a reference.
// ABQ_YAML_FUZZ_ITERS (default 300) sets the number of mutants; ABQ_FUZZ_SEED the seed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "experiments/runner/load_experiment.h"
#include "framework/core/error.h"

namespace fs = std::filesystem;

namespace {

const fs::path kSource = ABQ_SOURCE_DIR;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

struct Seed {
  fs::path relative;  // inside the mirror, e.g. experiments/abq_llm/w4a4.yaml
  std::string text;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Real folders with every file linked, so mutants can be written beside the originals.
void mirror_tree(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& entry : fs::recursive_directory_iterator(from)) {
    const fs::path target = to / fs::relative(entry.path(), from);
    if (entry.is_directory()) {
      fs::create_directories(target);
    } else if (!fs::exists(target)) {
      fs::create_symlink(entry.path(), target);
    }
  }
}

std::vector<Seed> shipped_seeds() {
  std::vector<Seed> seeds;
  for (const char* tree : {"experiments", "configs"}) {
    for (const auto& entry : fs::recursive_directory_iterator(kSource / tree)) {
      if (entry.path().extension() != ".yaml") continue;
      if (entry.path().parent_path().filename() == "reports") continue;  // report specs: no experiment
      std::string text = read_text(entry.path());
      if (std::string(tree) == "configs") text = "name: fragment\nresults: out.h5\n" + text;
      seeds.push_back({fs::relative(entry.path(), kSource), text});
    }
  }
  return seeds;
}

// Snippets that once crashed, hung or blew up a loader somewhere, and plain YAML syntax.
const std::vector<std::string>& snippets() {
  static const std::vector<std::string> list = {
      "&a ", "*a", "&b [*a, *a, *a, *a]", "s: &s [*s]\n", "<<: *a\n", "[", "]", "{", "}", ": ", "- ", ", ",
      "---\n", "...\n", "--- !!map\n", "%YAML 1.2\n", "? ", "? [a, b]\n: 1\n", "{[x]: 1}", "!!str ", "!!binary ",
      "!custom ", "|\n", ">-\n", "\"", "'", "\\", "#", "\t", "\r\n", "\n  ", "\n    - ", "${", "${x}", "$${",
      "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xef\xbb\xbf", "\xe2\x82", std::string(1, '\0'), "\"\\u00e9\"", "\"\\x41\"",
      "include: [/dev/zero]\n", "include: [.]\n", "include: [nope.yaml]\n", "include: /dev/null\n", "include: {}\n",
      "99999999999999999999", "-1", "0", "1e309", "-.inf", ".nan", "0x7fffffffffffffff", "~", "null", "[]", "{}",
      "sweep: {seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], calibration.seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}\n",
      "runs: [{name: a}, {name: a}]\n", "vars: {[a, b]: 1}\n", "eval.99999999999999999999.seqlen",
      "stride: 100000\n", "group_size: 7\n", "dynamic: false\n", "num_heads: 5\n", "corrections: [{type: smoothquant}]\n"};
  return list;
}

const std::vector<std::string>& values() {
  static const std::vector<std::string> list = {
      "0", "1", "-1", "2", "3", "7", "16", "17", "2147483648", "9223372036854775808", "1e18", "1.5", ".inf", ".nan",
      "true", "false", "~", "\"\"", "''", "[]", "{}", "[1, 2]", "{a: 1}", "per_group", "per_token", "per_tensor",
      "gptq", "smoothquant", "rtn", "perplexity", "zero_shot", "/dev/zero", ".", "\xff\xfe", "${nope}",
      std::string(300, 'x')};
  return list;
}

std::string mutate(std::string text, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n == 0 ? size_t(0) : size_t(rng() % n); };
  const int edits = 1 + int(rng() % 3);
  for (int e = 0; e < edits; ++e) {
    const size_t pos = pick(text.size() + 1);
    switch (rng() % 9) {
      case 0:  // flip a byte
        if (!text.empty()) text[pick(text.size())] ^= char(1u << (rng() % 8));
        break;
      case 1:  // random byte
        text.insert(pos, 1, char(rng() & 0xFF));
        break;
      case 2:  // delete a run of bytes
        if (!text.empty()) text.erase(pick(text.size()), 1 + pick(8));
        break;
      case 3:  // truncate
        text.resize(pos);
        break;
      case 4:
      case 5:  // a snippet
        text.insert(pos, snippets()[pick(snippets().size())]);
        break;
      case 6: {  // replace the value after some ": "
        const size_t colon = text.find(": ", pos);
        if (colon == std::string::npos) break;
        const size_t end = text.find_first_of(",}\n", colon + 2);
        text.replace(colon + 2, (end == std::string::npos ? text.size() : end) - colon - 2, values()[pick(values().size())]);
        break;
      }
      case 7: {  // delete or duplicate a line
        const size_t start = text.rfind('\n', pos == 0 ? 0 : pos - 1);
        const size_t from = start == std::string::npos ? 0 : start + 1;
        const size_t to = text.find('\n', from);
        const std::string line = text.substr(from, (to == std::string::npos ? text.size() : to + 1) - from);
        if (rng() % 2) text.erase(from, line.size());
        else text.insert(from, line);
        break;
      }
      default: {  // re-indent a line
        const size_t start = text.rfind('\n', pos == 0 ? 0 : pos - 1);
        const size_t from = start == std::string::npos ? 0 : start + 1;
        if (rng() % 2) text.insert(from, std::string(1 + pick(4), ' '));
        else if (from < text.size() && text[from] == ' ') text.erase(from, 1);
        break;
      }
    }
  }
  return text;
}

const std::vector<std::string>& hostile_sets() {
  static const std::vector<std::string> list = {
      "eval.99999999999999999999.seqlen=4", "vars={[a]: 1}", "quant.weights.bits=[1]", "quant=~", "name=\xff",
      "model.random.num_heads=7", "sweep.seed=[0, 1]", "a.b.c=&x [*x]", "quant.weights.group_size=-1",
      "eval.0.stride=1000000", "include=[/dev/zero]", "=", "quant..bits=2"};
  return list;
}

std::string printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\n' || (c >= 0x20 && c < 0x7F)) {
      out += char(c);
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", c);
      out += buffer;
    }
  }
  return out;
}

TEST(YamlFuzz, ValidateOnlyThrowsAbqErrors) {
  const int iters = env_int("ABQ_YAML_FUZZ_ITERS", 300);
  const uint64_t seed = static_cast<uint64_t>(env_int("ABQ_FUZZ_SEED", 20241122));
  const fs::path root = fs::path(::testing::TempDir()) / ("abq_yaml_fuzz_" + std::to_string(::getpid()));
  fs::remove_all(root);
  for (const char* tree : {"experiments", "configs"}) mirror_tree(kSource / tree, root / tree);
  const std::vector<Seed> seeds = shipped_seeds();
  ASSERT_GE(seeds.size(), 10u);

  std::mt19937_64 rng(seed);
  int accepted = 0, rejected = 0, slowest_ms = 0;
  for (int i = 0; i < iters; ++i) {
    const Seed& s = seeds[rng() % seeds.size()];
    const std::string text = mutate(s.text, rng);
    const fs::path path = (root / s.relative).replace_filename("fuzz_mutant.yaml");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    std::vector<std::string> sets;
    if (rng() % 8 == 0) sets.push_back(hostile_sets()[rng() % hostile_sets().size()]);
    const auto start = std::chrono::steady_clock::now();
    try {
      abq::runner::load_experiment(path.string(), sets);
      ++accepted;
    } catch (const abq::Error&) {
      ++rejected;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "mutant " << i << " of " << s.relative << " (seed " << seed << ") threw " << e.what()
                    << "\n--- mutant ---\n" << printable(text);
    }
    const auto ms = int(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    slowest_ms = std::max(slowest_ms, ms);
    EXPECT_LT(ms, 10000) << "mutant " << i << " of " << s.relative << " took " << ms << " ms\n" << printable(text);
  }
  std::cout << "yaml fuzz: " << iters << " mutants of " << seeds.size() << " files (seed " << seed << "): " << accepted
            << " accepted, " << rejected << " rejected with abq::Error, slowest " << slowest_ms << " ms\n";
  fs::remove_all(root);
}

}  // namespace

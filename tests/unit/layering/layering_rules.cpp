#include "tests/unit/layering/layering_rules.h"

#include "tests/unit/layering/include_scan.h"

namespace abq::layering {
namespace fs = std::filesystem;

namespace {

// "framework/model/rope.h" -> "model"; "" when the path has no folder part after the prefix.
std::string folder_of(const std::string& path, const std::string& prefix) {
  if (path.compare(0, prefix.size(), prefix) != 0) return "";
  const auto slash = path.find('/', prefix.size());
  return slash == std::string::npos ? "" : path.substr(prefix.size(), slash - prefix.size());
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

std::set<std::string> framework_folders(const fs::path& framework_dir) {
  std::set<std::string> out;
  for (const auto& entry : fs::directory_iterator(framework_dir))
    if (entry.is_directory()) out.insert(entry.path().filename().string());
  return out;
}

std::vector<std::string> layering_violations(const fs::path& framework_dir, const MayUse& table) {
  static const std::vector<std::pair<std::string, std::string>> above = {
      {"evaluators/", "evaluators/ sits above framework/ (framework/README.md)"},
      {"experiments/", "experiments/ (runner, cli) sits above framework/ (framework/README.md)"},
  };
  std::vector<std::string> out;
  for (const auto& inc : quoted_includes(framework_dir)) {
    const std::string folder = folder_of(inc.file, "framework/");
    if (starts_with(inc.target, "kernels/")) {
      auto row = table.find(folder);
      if (row == table.end() || !row->second.count(kKernelsEntry))
        out.push_back(describe(inc) + ": only the folder whose row lists kernels (the format adapter, "
                                      "framework/README.md) includes kernels/, not " + folder + "/");
      continue;
    }
    bool reported = false;
    for (const auto& [prefix, why] : above)
      if (starts_with(inc.target, prefix)) {
        out.push_back(describe(inc) + ": " + why);
        reported = true;
      }
    if (reported) continue;
    if (!starts_with(inc.target, "framework/")) {
      out.push_back(describe(inc) + ": framework headers are included by their path from the repository root "
                                    "(\"framework/<folder>/<file>\")");
      continue;
    }
    const std::string target = folder_of(inc.target, "framework/");
    if (target == folder) continue;
    auto row = table.find(folder);
    if (row == table.end()) {
      out.push_back(describe(inc) + ": framework/README.md has no row for " + folder + "/");
    } else if (!row->second.count(target)) {
      std::string listed;
      for (const auto& f : row->second) listed += (listed.empty() ? "" : ", ") + f;
      out.push_back(describe(inc) + ": " + folder + "/ may use " + (listed.empty() ? "no other folder" : listed) +
                    " (framework/README.md), not " + target + "/");
    }
  }
  for (const auto& folder : framework_folders(framework_dir))
    if (!table.count(folder))
      out.push_back("framework/" + folder + "/: no row in the table of framework/README.md");
  for (const auto& [folder, allowed] : table)
    if (!fs::is_directory(framework_dir / folder))
      out.push_back("framework/README.md: row " + folder + "/ names no folder under framework/");
  return out;
}

}  // namespace abq::layering

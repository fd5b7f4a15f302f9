// The layering rule of framework/ (framework/README.md, "rule of the rooms"), as a check:
//   1. framework/ never includes the layers above it (evaluators/, experiments/), includes
//      kernels/ only from the folder whose row lists "kernels" (the format adapter), and names
//      its own headers by their framework/ path;
//   2. each framework folder includes, besides itself, only the folders its README row lists;
//   3. every framework folder with sources has a row.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tests/unit/layering/may_use_table.h"

namespace abq::layering {

/// The folders directly under `framework_dir` ("core", "model", ...).
std::set<std::string> framework_folders(const std::filesystem::path& framework_dir);

/// One line per broken rule, "file:line: #include \"target\": why", in path order; empty when the
/// tree keeps the rules.
std::vector<std::string> layering_violations(const std::filesystem::path& framework_dir, const MayUse& table);

}  // namespace abq::layering

// The quoted includes of a source tree, read as text: what the layering test checks. No
// preprocessor runs, so an include inside `#if 0` counts too (the rule is about what the file
// names, not what one configuration compiles).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace abq::layering {

struct Include {
  std::string file;    // path relative to the scanned root's parent ("framework/model/rope.cpp")
  int line = 0;        // 1-based
  std::string target;  // what is between the quotes ("framework/core/error.h")
};

/// Every `#include "..."` of every .h, .hpp, .cuh, .cpp, .cc and .cu file under `root`, in path
/// order. Throws std::runtime_error naming the path when `root` is not a directory or a file
/// cannot be read (an unreadable tree must fail the test, not pass it).
std::vector<Include> quoted_includes(const std::filesystem::path& root);

/// "file:line: #include \"target\"", the form the test reports violations in.
std::string describe(const Include& include);

}  // namespace abq::layering

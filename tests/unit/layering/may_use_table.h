// The per-folder table of framework/README.md ("| folder | holds | may use |"), parsed, so the
// README stays the one statement of which framework folder may include which.
#pragma once

#include <map>
#include <set>
#include <string>

namespace abq::layering {

/// The entry of a "may use" cell that lets a framework folder include kernels/ (the folder beside
/// framework/); only the kernel format adapter's row lists it.
inline constexpr const char* kKernelsEntry = "kernels";

/// Folder name ("tokenize") -> the framework folders it may include besides itself (and
/// kKernelsEntry when it may include kernels/).
using MayUse = std::map<std::string, std::set<std::string>>;

/// Rows whose first cell is `name/`; the third cell lists folders separated by commas, each
/// optionally followed by a parenthesised note ("io (gguf_vocab only)"), or "std only" for none.
/// Every listed name must be one of `folders` or kKernelsEntry (a typo would silently allow nothing). Throws
/// std::runtime_error naming the row when a cell cannot be read, a folder appears twice, or no
/// row is found.
MayUse parse_may_use_table(const std::string& readme, const std::set<std::string>& folders);

}  // namespace abq::layering

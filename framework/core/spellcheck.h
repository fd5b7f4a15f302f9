// "Did you mean" suggestions: the closest allowed word by edit distance (ninja's SpellcheckString).
#pragma once

#include <string>
#include <vector>

namespace abq {

/// Levenshtein distance (insert, delete, substitute; each costs 1).
size_t edit_distance(const std::string& a, const std::string& b);

/// The candidate closest to `word`, or "" when none is within max(2, |word|/3) edits.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

/// Joins with ", " in the given order: "a, b, c".
std::string join(const std::vector<std::string>& words, const std::string& sep = ", ");

}  // namespace abq

// Rank-ordered BPE merging of one word: repeatedly merge the adjacent pair with the lowest merge
// rank, the leftmost first among equal ranks (Hugging Face `tokenizers` models/bpe/word.rs
// merge_all; llama.cpp llm_tokenizer_bpe_session). O(n log n) with a priority queue over a
// linked list of symbols.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace abq::tokenize {

/// (left, right) -> rank; lower ranks merge first.
class MergeRanks {
 public:
  void add(const std::string& left, const std::string& right, int rank);
  /// Rank of the pair, or -1 when it is not a merge.
  int rank(const std::string& left, const std::string& right) const;
  size_t size() const { return size_; }

 private:
  // left -> right -> rank: two lookups on existing strings, no key built per query.
  std::unordered_map<std::string, std::unordered_map<std::string, int>> ranks_;
  size_t size_ = 0;
};

/// `symbols` after all merges; their concatenation is unchanged.
std::vector<std::string> bpe_merge(const std::vector<std::string>& symbols, const MergeRanks& ranks);

}  // namespace abq::tokenize

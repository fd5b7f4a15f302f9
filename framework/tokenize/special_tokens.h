// Literal special-token matching: splits input text into plain fragments and special-token ids
// before any normalisation or pre-tokenisation, as Hugging Face `tokenizers` AddedVocabulary and
// llama.cpp's tokenizer_st_partition do. At each position the longest special token wins.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace abq::tokenize {

class SpecialTokenMatcher {
 public:
  struct Fragment {
    std::string text;  // plain text when id < 0
    int64_t id = -1;   // special token id, or -1 for plain text
  };

  SpecialTokenMatcher() = default;
  /// (literal text, id) pairs; empty texts are ignored.
  explicit SpecialTokenMatcher(const std::vector<std::pair<std::string, int64_t>>& tokens);

  /// `text` as alternating plain fragments and special tokens, in order; no empty plain fragments.
  std::vector<Fragment> split(const std::string& text) const;

  bool empty() const { return by_first_byte_.empty(); }

 private:
  // first byte -> candidates, longest first
  std::unordered_map<unsigned char, std::vector<std::pair<std::string, int64_t>>> by_first_byte_;
};

}  // namespace abq::tokenize

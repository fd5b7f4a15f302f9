// Pre-tokenisation by regular expressions (PCRE2, UTF + Unicode properties), as Hugging Face
// `Split(..., behavior="Isolated")` and llama.cpp's unicode_regex_split apply them: every match and
// every unmatched gap becomes a piece; several patterns apply in sequence, each to the pieces of
// the previous one. Also names the pattern lists of the byte-level BPE families we support.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace abq::tokenize {

class RegexSplitter {
 public:
  /// Throws abq::Error when a pattern does not compile (message names the pattern and offset).
  explicit RegexSplitter(const std::vector<std::string>& patterns);
  ~RegexSplitter();
  RegexSplitter(RegexSplitter&&) noexcept;
  RegexSplitter& operator=(RegexSplitter&&) noexcept;

  /// Pieces of `text` in order; their concatenation is `text`. Invalid UTF-8 never matches and
  /// stays inside gaps.
  std::vector<std::string> split(const std::string& text) const;

 private:
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> compiled_;
};

/// Pattern list for a GGUF `tokenizer.ggml.pre` name (llama.cpp llama-vocab.cpp, matching the
/// Hugging Face pre-tokenizers of those models). Throws abq::Error listing the supported names.
std::vector<std::string> pre_tokenizer_patterns(const std::string& pre_type);

/// Names accepted by pre_tokenizer_patterns, sorted.
std::vector<std::string> supported_pre_types();

}  // namespace abq::tokenize

// Byte-level BPE (GPT-2 family: GPT-2, GPT-NeoX, LLaMA-3, Qwen2, SmolLM). Matches llama.cpp
// llm_tokenizer_bpe (llama-vocab.cpp) and Hugging Face `tokenizers` BPE + ByteLevel id for id on
// the llama.cpp test vectors: special tokens split first, then the pre-tokenizer regexes, then
// each piece is mapped byte -> unicode (byte_unicode.h) and merged by rank (bpe_merge.h).
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "framework/tokenize/bpe_merge.h"
#include "framework/tokenize/regex_splitter.h"
#include "framework/tokenize/special_tokens.h"
#include "framework/tokenize/token_type.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::tokenize {

/// A byte-level BPE vocabulary as GGUF (tokenizer.ggml.model = "gpt2") or tokenizer.json holds it.
struct BpeVocab {
  std::vector<std::string> tokens;                          // id -> text, byte-level form ("Ġthe")
  std::vector<std::pair<std::string, std::string>> merges;  // rank -> (left, right)
  std::vector<TokenType> token_types;                       // id -> type; empty means all normal
  std::string pre_type = "gpt-2";                           // see supported_pre_types()
  std::vector<std::string> pre_patterns;                    // when non-empty, used instead of pre_type
  int64_t bos = -1;
  int64_t eos = -1;
  bool add_bos = false;
  bool ignore_merges = false;  // a piece that is already a token is emitted whole (LLaMA-3)
};

/// Splits a GGUF merge line "left right" at its first space; throws abq::Error without one.
std::pair<std::string, std::string> split_merge_line(const std::string& line);

class BpeTokenizer final : public Tokenizer {
 public:
  /// Throws abq::Error when the vocabulary is inconsistent (sizes, ids out of range, bad pre_type).
  explicit BpeTokenizer(BpeVocab vocab);

  std::vector<int64_t> encode(const std::string& text, bool add_bos) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.tokens.size()); }
  int64_t bos_id() const override { return vocab_.bos; }
  int64_t eos_id() const override { return vocab_.eos; }
  std::string name() const override;

  /// Type of token `id` (kNormal when the vocabulary has no types).
  TokenType type(int64_t id) const;

 private:
  void encode_piece(const std::string& piece, std::vector<int64_t>& out) const;
  int64_t find(const std::string& token_text) const;

  BpeVocab vocab_;
  std::unordered_map<std::string, int64_t> token_to_id_;
  MergeRanks ranks_;
  RegexSplitter splitter_;
  SpecialTokenMatcher specials_;
};

}  // namespace abq::tokenize

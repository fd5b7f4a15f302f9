// SentencePiece-style BPE as Hugging Face `tokenizers` stores it in tokenizer.json (LLaMA-1/2,
// Mistral): normalizer Prepend("▁") + Replace(" ", "▁") (or the Metaspace pre-tokenizer), no other
// splitting, rank-ordered merges over characters, characters missing from the vocabulary become
// <0xXX> byte tokens (byte_fallback) or one fused <unk>. Matches `tokenizers` models/bpe with
// byte_fallback; on LLaMA-2 it reproduces the llama.cpp llama-spm test vectors id for id.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "framework/tokenize/bpe_merge.h"
#include "framework/tokenize/special_tokens.h"
#include "framework/tokenize/token_type.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::tokenize {

struct ByteFallbackBpeVocab {
  std::vector<std::string> tokens;                          // id -> piece, "▁" for spaces
  std::vector<std::pair<std::string, std::string>> merges;  // rank -> (left, right)
  std::vector<TokenType> token_types;                       // id -> type; empty means all normal
  int64_t bos = -1;
  int64_t eos = -1;
  int64_t unk = -1;
  bool add_bos = true;
  bool prepend_space = true;        // Prepend("▁") / Metaspace prepend_scheme "always" or "first"
  bool prepend_first_only = false;  // Metaspace "first": only before the text's first fragment
  bool byte_fallback = true;
  bool fuse_unk = true;
  bool ignore_merges = false;
};

class ByteFallbackBpeTokenizer final : public Tokenizer {
 public:
  /// Throws abq::Error when the vocabulary is inconsistent.
  explicit ByteFallbackBpeTokenizer(ByteFallbackBpeVocab vocab);

  std::vector<int64_t> encode(const std::string& text, bool add_bos) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.tokens.size()); }
  int64_t bos_id() const override { return vocab_.bos; }
  int64_t eos_id() const override { return vocab_.eos; }
  std::string name() const override;

  TokenType type(int64_t id) const;

 private:
  void encode_fragment(const std::string& normalized, std::vector<int64_t>& out) const;
  void encode_part(const std::string& part, std::vector<int64_t>& out) const;

  ByteFallbackBpeVocab vocab_;
  std::unordered_map<std::string, int64_t> token_to_id_;
  std::vector<int64_t> byte_tokens_;  // byte -> id of <0xXX>, or -1
  bool cut_at_spaces_ = false;        // see mark_only_starts_pieces (utf8.h): an exact speed-up
  MergeRanks ranks_;
  SpecialTokenMatcher specials_;
};

}  // namespace abq::tokenize

// SentencePiece-style tokenizer from a GGUF vocabulary (tokenizer.ggml.model = "llama"): pieces
// with scores, merged highest score first. Matches llama.cpp llm_tokenizer_spm (llama-vocab.cpp)
// id for id on the llama-spm test vectors, which in turn matches sentencepiece's BPE model:
// ' ' -> U+2581 "▁", one "▁" prepended (add_dummy_prefix), adjacent pieces merged while their
// concatenation is a vocabulary piece, best score first and leftmost on ties; characters left
// without a piece become <0xXX> byte tokens (byte fallback), or <unk> when those are missing.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "framework/tokenize/special_tokens.h"
#include "framework/tokenize/token_type.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::tokenize {

/// A SentencePiece vocabulary as GGUF stores it.
struct SpmVocab {
  std::vector<std::string> tokens;     // id -> piece, with "▁" for spaces
  std::vector<float> scores;           // id -> score; higher merges first
  std::vector<TokenType> token_types;  // id -> type; empty means all normal
  int64_t bos = -1;
  int64_t eos = -1;
  int64_t unk = -1;
  bool add_bos = true;           // tokenizer.ggml.add_bos_token (llama.cpp default for SPM: true)
  bool add_dummy_prefix = true;  // tokenizer.ggml.add_space_prefix
  // A character with no piece and no <0xXX> piece: false gives llama.cpp's per-byte lookup,
  // true gives libsentencepiece's single <unk> per run of such characters (no byte_fallback).
  bool one_unk_per_unknown_run = false;
  // Text decode prints for <unk>: empty gives the piece itself (llama.cpp); libsentencepiece
  // prints TrainerSpec.unk_surface (" \u2047 ").
  std::string unk_surface;
};

class SpmTokenizer final : public Tokenizer {
 public:
  /// Throws abq::Error when the vocabulary is inconsistent.
  explicit SpmTokenizer(SpmVocab vocab);

  std::vector<int64_t> encode(const std::string& text, bool add_bos) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.tokens.size()); }
  int64_t bos_id() const override { return vocab_.bos; }
  int64_t eos_id() const override { return vocab_.eos; }
  std::string name() const override;

  TokenType type(int64_t id) const;

 private:
  void encode_fragment(const std::string& escaped, std::vector<int64_t>& out) const;
  int64_t find_mergeable(const std::string& piece) const;
  int64_t byte_token(unsigned char byte) const;

  SpmVocab vocab_;
  std::unordered_map<std::string, int64_t> token_to_id_;
  std::vector<int64_t> byte_tokens_;  // byte -> id of <0xXX>, or -1
  bool cut_at_spaces_ = false;        // see mark_only_starts_pieces (utf8.h): an exact speed-up
  SpecialTokenMatcher specials_;
};

}  // namespace abq::tokenize

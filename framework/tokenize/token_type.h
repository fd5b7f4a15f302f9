// Token types as GGUF stores them in tokenizer.ggml.token_type (values match llama.cpp's
// llama_token_type enum and sentencepiece's ModelProto.SentencePiece.Type + 1).
#pragma once

#include <cstdint>

namespace abq::tokenize {

enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,      // BOS, EOS, <|im_start|>: never produced by merging text
  kUserDefined = 4,  // added tokens that are always matched literally in the input
  kUnused = 5,
  kByte = 6,  // <0xXX> byte-fallback pieces
};

/// True for tokens matched literally in input text before any splitting (HF "added tokens").
inline bool is_literal_special(TokenType t) {
  return t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown;
}

}  // namespace abq::tokenize

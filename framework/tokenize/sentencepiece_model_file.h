// A sentencepiece `tokenizer.model` file (a serialized sentencepiece.ModelProto, see
// sentencepiece_model.proto in google/sentencepiece), read with our own wire-format reader. Only
// the fields that decide tokenization are kept; the rest (training options, self-test data) are
// skipped. Absent fields take the proto2 defaults written in that .proto.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "framework/tokenize/token_type.h"

namespace abq::tokenize {

/// TrainerSpec.ModelType.
enum class SpmModelType : int32_t { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

const char* spm_model_type_name(SpmModelType type);

struct SpmPiece {
  std::string piece;                      // ModelProto.SentencePiece.piece (1), "▁" for spaces
  float score = 0.0f;                     // .score (2)
  TokenType type = TokenType::kNormal;    // .type (3); same numbers as TokenType
};

struct SpmModelFile {
  std::vector<SpmPiece> pieces;  // ModelProto.pieces (1); index = token id

  // ModelProto.trainer_spec (2)
  SpmModelType model_type = SpmModelType::kUnigram;  // field 3
  bool byte_fallback = false;                        // field 35
  bool treat_whitespace_as_suffix = false;           // field 24
  int32_t unk_id = 0;                                // field 40
  int32_t bos_id = 1;                                // field 41 (-1: none)
  int32_t eos_id = 2;                                // field 42 (-1: none)
  int32_t pad_id = -1;                               // field 43 (-1: none)
  std::string unk_surface = " \xE2\x81\x87 ";         // field 44: decode's text for <unk>

  // ModelProto.normalizer_spec (3)
  std::string normalizer_name;            // field 1, e.g. "identity", "nmt_nfkc"
  bool has_precompiled_charsmap = false;  // field 2 non-empty: a character mapping is applied
  bool add_dummy_prefix = true;           // field 3
  bool remove_extra_whitespaces = true;   // field 4
  bool escape_whitespaces = true;         // field 5
};

/// Parses a serialized ModelProto; `origin` names it in errors. Throws abq::Error on corruption
/// (with the byte offset) or on values out of range (unknown piece type, ids past the vocabulary).
SpmModelFile parse_spm_model(std::string_view bytes, const std::string& origin);

/// Reads and parses the file at `path`.
SpmModelFile read_spm_model_file(const std::string& path);

}  // namespace abq::tokenize

#include "framework/tokenize/sentencepiece_model_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "framework/core/error.h"
#include "framework/tokenize/protobuf_wire.h"

namespace abq::tokenize {
namespace {

// Field numbers from sentencepiece_model.proto.
namespace model_proto {
constexpr uint32_t kPieces = 1, kTrainerSpec = 2, kNormalizerSpec = 3;
}
namespace piece_proto {
constexpr uint32_t kPiece = 1, kScore = 2, kType = 3;
}
namespace trainer_proto {
constexpr uint32_t kModelType = 3, kTreatWhitespaceAsSuffix = 24, kByteFallback = 35, kUnkId = 40, kBosId = 41,
                   kEosId = 42, kPadId = 43, kUnkSurface = 44;
}
namespace normalizer_proto {
constexpr uint32_t kName = 1, kPrecompiledCharsmap = 2, kAddDummyPrefix = 3, kRemoveExtraWhitespaces = 4,
                   kEscapeWhitespaces = 5;
}

SpmPiece parse_piece(WireReader reader, size_t offset) {
  SpmPiece piece;
  bool has_piece = false;
  WireField f;
  while (reader.next(f)) {
    if (f.number == piece_proto::kPiece) {
      piece.piece = std::string(reader.as_bytes(f, "SentencePiece.piece"));
      has_piece = true;
    } else if (f.number == piece_proto::kScore) {
      piece.score = reader.as_float(f, "SentencePiece.score");
    } else if (f.number == piece_proto::kType) {
      const int32_t type = reader.as_int32(f, "SentencePiece.type");
      if (type < 1 || type > 6) {
        throw Error(cat("'", reader.origin(), "': piece at byte offset ", offset, " has type ", type,
                        "; expected 1..6 (NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE)"));
      }
      piece.type = static_cast<TokenType>(type);
    }
  }
  if (!has_piece || piece.piece.empty()) {
    throw Error(cat("'", reader.origin(), "': piece at byte offset ", offset, " has no text; expected a non-empty piece"));
  }
  return piece;
}

void parse_trainer_spec(WireReader reader, SpmModelFile& model) {
  WireField f;
  while (reader.next(f)) {
    switch (f.number) {
      case trainer_proto::kModelType: {
        const int32_t type = reader.as_int32(f, "TrainerSpec.model_type");
        if (type < 1 || type > 4) {
          throw Error(cat("'", reader.origin(), "': TrainerSpec.model_type at byte offset ", f.offset, " is ", type,
                          "; expected 1..4 (UNIGRAM, BPE, WORD, CHAR)"));
        }
        model.model_type = static_cast<SpmModelType>(type);
        break;
      }
      case trainer_proto::kTreatWhitespaceAsSuffix:
        model.treat_whitespace_as_suffix = reader.as_bool(f, "TrainerSpec.treat_whitespace_as_suffix");
        break;
      case trainer_proto::kByteFallback: model.byte_fallback = reader.as_bool(f, "TrainerSpec.byte_fallback"); break;
      case trainer_proto::kUnkId: model.unk_id = reader.as_int32(f, "TrainerSpec.unk_id"); break;
      case trainer_proto::kBosId: model.bos_id = reader.as_int32(f, "TrainerSpec.bos_id"); break;
      case trainer_proto::kEosId: model.eos_id = reader.as_int32(f, "TrainerSpec.eos_id"); break;
      case trainer_proto::kPadId: model.pad_id = reader.as_int32(f, "TrainerSpec.pad_id"); break;
      case trainer_proto::kUnkSurface:
        model.unk_surface = std::string(reader.as_bytes(f, "TrainerSpec.unk_surface"));
        break;
      default: break;  // training-only options
    }
  }
}

void parse_normalizer_spec(WireReader reader, SpmModelFile& model) {
  WireField f;
  while (reader.next(f)) {
    switch (f.number) {
      case normalizer_proto::kName: model.normalizer_name = std::string(reader.as_bytes(f, "NormalizerSpec.name")); break;
      case normalizer_proto::kPrecompiledCharsmap:
        model.has_precompiled_charsmap = !reader.as_bytes(f, "NormalizerSpec.precompiled_charsmap").empty();
        break;
      case normalizer_proto::kAddDummyPrefix:
        model.add_dummy_prefix = reader.as_bool(f, "NormalizerSpec.add_dummy_prefix");
        break;
      case normalizer_proto::kRemoveExtraWhitespaces:
        model.remove_extra_whitespaces = reader.as_bool(f, "NormalizerSpec.remove_extra_whitespaces");
        break;
      case normalizer_proto::kEscapeWhitespaces:
        model.escape_whitespaces = reader.as_bool(f, "NormalizerSpec.escape_whitespaces");
        break;
      default: break;
    }
  }
}

}  // namespace

const char* spm_model_type_name(SpmModelType type) {
  switch (type) {
    case SpmModelType::kUnigram: return "UNIGRAM";
    case SpmModelType::kBpe: return "BPE";
    case SpmModelType::kWord: return "WORD";
    case SpmModelType::kChar: return "CHAR";
  }
  return "?";
}

SpmModelFile parse_spm_model(std::string_view bytes, const std::string& origin) {
  SpmModelFile model;
  WireReader reader(bytes, origin);
  WireField f;
  while (reader.next(f)) {
    if (f.number == model_proto::kPieces) {
      model.pieces.push_back(parse_piece(reader.nested(f), f.offset));
    } else if (f.number == model_proto::kTrainerSpec) {
      parse_trainer_spec(reader.nested(f), model);  // proto2: a repeated message field merges
    } else if (f.number == model_proto::kNormalizerSpec) {
      parse_normalizer_spec(reader.nested(f), model);
    }
  }
  if (model.pieces.empty()) {
    throw Error(cat("'", origin, "' holds no sentencepiece pieces (ModelProto field 1); is it a sentencepiece "
                    "tokenizer.model?"));
  }
  const auto n = static_cast<int64_t>(model.pieces.size());
  const std::pair<const char*, int32_t> ids[] = {
      {"unk_id", model.unk_id}, {"bos_id", model.bos_id}, {"eos_id", model.eos_id}, {"pad_id", model.pad_id}};
  for (const auto& [name, id] : ids) {
    if (id < -1 || id >= n) {
      throw Error(cat("'", origin, "': TrainerSpec.", name, " is ", id, "; expected -1 or 0..", n - 1,
                      " for a vocabulary of ", n, " pieces"));
    }
  }
  return model;
}

SpmModelFile read_spm_model_file(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    throw Error(cat("sentencepiece model '", path, "' does not exist or is not a file"));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (!in && !in.eof()) throw Error(cat("cannot read sentencepiece model '", path, "'"));
  const std::string bytes = buffer.str();
  try {
    return parse_spm_model(bytes, path);
  } catch (Error& e) {
    e.with_context(cat("while reading sentencepiece model '", path, "'"));
    throw;
  }
}

}  // namespace abq::tokenize

#include "framework/tokenize/sentencepiece_model_tokenizer.h"

#include "framework/core/error.h"

namespace abq::tokenize {
namespace {

// libsentencepiece's normalizer with remove_extra_whitespaces: drop leading and trailing spaces
// and squeeze runs of spaces to one (only U+0020; identity normalisation maps nothing onto it).
std::string squeeze_spaces(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (char c : text) {
    if (c == ' ') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

SpmVocab spm_vocab_from_model(const SpmModelFile& model, const std::string& origin, bool add_bos) {
  if (model.model_type != SpmModelType::kBpe) {
    throw Error(cat("sentencepiece model '", origin, "' is of type ", spm_model_type_name(model.model_type),
                    "; only BPE-type sentencepiece models (LLaMA-1/2, Mistral) are supported. Use the model's "
                    "tokenizer.json or a GGUF vocabulary instead"));
  }
  if (model.has_precompiled_charsmap) {
    throw Error(cat("sentencepiece model '", origin, "' applies the normalization rule '", model.normalizer_name,
                    "'; only identity normalization (no precompiled_charsmap, as in LLaMA) is supported"));
  }
  if (!model.escape_whitespaces || model.treat_whitespace_as_suffix) {
    throw Error(cat("sentencepiece model '", origin, "' sets escape_whitespaces=", model.escape_whitespaces,
                    " treat_whitespace_as_suffix=", model.treat_whitespace_as_suffix,
                    "; expected the defaults (1 and 0)"));
  }
  SpmVocab vocab;
  vocab.tokens.reserve(model.pieces.size());
  for (const auto& p : model.pieces) {
    vocab.tokens.push_back(p.piece);
    vocab.scores.push_back(p.score);
    vocab.token_types.push_back(p.type);
  }
  vocab.bos = model.bos_id;
  vocab.eos = model.eos_id;
  vocab.unk = model.unk_id;
  vocab.add_bos = add_bos;
  vocab.add_dummy_prefix = model.add_dummy_prefix;
  // Without byte pieces libsentencepiece emits one <unk> per run of unknown characters.
  vocab.one_unk_per_unknown_run = !model.byte_fallback;
  vocab.unk_surface = model.unk_surface;
  return vocab;
}

SentencePieceModelTokenizer::SentencePieceModelTokenizer(const std::string& path, bool add_bos)
    : path_(path),
      remove_extra_whitespaces_(false),
      vocab_([&] {
        const SpmModelFile model = read_spm_model_file(path);
        remove_extra_whitespaces_ = model.remove_extra_whitespaces;
        return spm_vocab_from_model(model, path, add_bos);
      }()),
      spm_(vocab_) {}

std::vector<int64_t> SentencePieceModelTokenizer::encode(const std::string& text, bool add_bos) const {
  return spm_.encode(remove_extra_whitespaces_ ? squeeze_spaces(text) : text, add_bos);
}

std::string SentencePieceModelTokenizer::decode(const std::vector<int64_t>& ids) const { return spm_.decode(ids); }

std::string SentencePieceModelTokenizer::name() const {
  return cat("sentencepiece(", path_, ", ", vocab_size(), " tokens)");
}

}  // namespace abq::tokenize

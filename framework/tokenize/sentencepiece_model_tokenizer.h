// A sentencepiece `tokenizer.model` file (LLaMA-1/2, Mistral, ...) read by our own protobuf reader
// (sentencepiece_model_file.h) and run by SpmTokenizer, which reproduces libsentencepiece's BPE
// segmentation. Only BPE-type models are accepted: UNIGRAM models (T5, ALBERT, XLNet) segment by
// Viterbi, which SpmTokenizer does not do, so they are refused with an error rather than
// tokenized differently. BOS follows the model's own bos_id and `add_bos`.
#pragma once

#include <memory>
#include <string>

#include "framework/tokenize/sentencepiece_model_file.h"
#include "framework/tokenize/spm_tokenizer.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::tokenize {

/// The pieces, scores and types of a BPE-type model in GGUF form, as llama.cpp's converter writes
/// them. Throws abq::Error (naming `origin`) for models SpmTokenizer cannot reproduce.
SpmVocab spm_vocab_from_model(const SpmModelFile& model, const std::string& origin, bool add_bos = true);

class SentencePieceModelTokenizer final : public Tokenizer {
 public:
  /// Throws abq::Error when the file is missing, corrupt, or not a BPE-type sentencepiece model.
  explicit SentencePieceModelTokenizer(const std::string& path, bool add_bos = true);

  std::vector<int64_t> encode(const std::string& text, bool add_bos) const override;
  std::string decode(const std::vector<int64_t>& ids) const override;
  int64_t vocab_size() const override { return spm_.vocab_size(); }
  int64_t bos_id() const override { return spm_.bos_id(); }
  int64_t eos_id() const override { return spm_.eos_id(); }
  std::string name() const override;

  /// The vocabulary handed to SpmTokenizer (GGUF form).
  const SpmVocab& spm_vocab() const { return vocab_; }

 private:
  std::string path_;
  bool remove_extra_whitespaces_;
  SpmVocab vocab_;
  SpmTokenizer spm_;
};

}  // namespace abq::tokenize

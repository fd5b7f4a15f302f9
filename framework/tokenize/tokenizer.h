// Tokenizer: text <-> token ids. Every implementation in this folder reproduces a named reference
// id for id (llama.cpp's llama-vocab.cpp, Hugging Face `tokenizers`, libsentencepiece); the test
// vectors in tests/fixtures/tokenizers/ pin that.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace abq::tokenize {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  /// Token ids for `text`. Special/added tokens written literally in `text` (e.g. "<|im_start|>")
  /// map to their ids, as Hugging Face `tokenizers` does. With `add_bos`, BOS is prepended when the
  /// tokenizer has one and its rules ask for it (tokenizer.ggml.add_bos_token, HF post-processor).
  virtual std::vector<int64_t> encode(const std::string& text, bool add_bos) const = 0;

  /// Text for `ids`. BOS/EOS are left out; other control tokens appear as their text.
  /// Throws abq::Error for an id outside [0, vocab_size()).
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;

  virtual int64_t vocab_size() const = 0;
  /// -1 when the tokenizer has none.
  virtual int64_t bos_id() const = 0;
  /// -1 when the tokenizer has none.
  virtual int64_t eos_id() const = 0;
  /// Short description: kind and origin, e.g. "bpe(llama-bpe, 128256 tokens)".
  virtual std::string name() const = 0;
};

/// ids 0..255 are the bytes, BOS = 256, EOS = 257, vocab 258; used with tiny random test models.
std::unique_ptr<Tokenizer> make_byte_tokenizer();

}  // namespace abq::tokenize

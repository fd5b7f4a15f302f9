// Byte tokenizer: one id per byte, plus BOS/EOS. No reference beyond its definition in tokenizer.h.
#include "framework/core/error.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::tokenize {
namespace {

constexpr int64_t kBos = 256;
constexpr int64_t kEos = 257;
constexpr int64_t kVocab = 258;

class ByteTokenizer final : public Tokenizer {
 public:
  std::vector<int64_t> encode(const std::string& text, bool add_bos) const override {
    std::vector<int64_t> ids;
    ids.reserve(text.size() + 1);
    if (add_bos) ids.push_back(kBos);
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string out;
    out.reserve(ids.size());
    for (int64_t id : ids) {
      if (id < 0 || id >= kVocab) {
        throw Error(cat("byte tokenizer: token id ", id, " is out of range; expected 0..", kVocab - 1));
      }
      if (id < 256) out.push_back(static_cast<char>(id));
    }
    return out;
  }

  int64_t vocab_size() const override { return kVocab; }
  int64_t bos_id() const override { return kBos; }
  int64_t eos_id() const override { return kEos; }
  std::string name() const override { return "bytes(258 tokens)"; }
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer() { return std::make_unique<ByteTokenizer>(); }

}  // namespace abq::tokenize

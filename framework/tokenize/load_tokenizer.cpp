#include "framework/tokenize/load_tokenizer.h"

#include <filesystem>

#include "framework/core/error.h"
#include "framework/tokenize/hf_tokenizer_json.h"
#include "framework/tokenize/sentencepiece_model_tokenizer.h"

namespace abq::tokenize {

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  namespace fs = std::filesystem;
  const char* const accepted =
      "accepted: a tokenizer.json, a sentencepiece .model file, or a directory holding one of them "
      "(GGUF files: use tokenizer_from_gguf)";
  const fs::path p(path);
  if (fs::is_directory(p)) {
    if (fs::is_regular_file(p / "tokenizer.json")) return load_hf_tokenizer_json((p / "tokenizer.json").string());
    if (fs::is_regular_file(p / "tokenizer.model")) {
      return std::make_unique<SentencePieceModelTokenizer>((p / "tokenizer.model").string());
    }
    throw Error(cat("directory '", path, "' holds neither tokenizer.json nor tokenizer.model; ", accepted));
  }
  if (!fs::exists(p)) throw Error(cat("tokenizer path '", path, "' does not exist; ", accepted));
  const std::string ext = p.extension().string();
  if (ext == ".json") return load_hf_tokenizer_json(path);
  if (ext == ".model") return std::make_unique<SentencePieceModelTokenizer>(path);
  throw Error(cat("tokenizer file '", path, "' has extension '", ext, "'; ", accepted));
}

}  // namespace abq::tokenize

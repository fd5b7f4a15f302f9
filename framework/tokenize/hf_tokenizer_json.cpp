#include "framework/tokenize/hf_tokenizer_json.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "framework/tokenize/bpe_tokenizer.h"
#include "framework/tokenize/byte_fallback_bpe_tokenizer.h"
#include "framework/tokenize/regex_splitter.h"

namespace abq::tokenize {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* const kSupported =
    "supported: model.type \"BPE\" with a ByteLevel pre-tokenizer (GPT-2, LLaMA-3, Qwen2), or \"BPE\" "
    "with byte_fallback and a \"\xE2\x96\x81\" normalizer / Metaspace pre-tokenizer (LLaMA-1/2, Mistral)";

// Bounded like every JSON a model ships (core/bounded_json.h): nesting, repeated keys, size, and
// only a regular file (a FIFO would block the read).
json read_json(const fs::path& path) {
  if (!fs::exists(path)) throw Error(cat("cannot open '", path.string(), "'; expected a Hugging Face tokenizer.json"));
  return read_bounded_json_file(path.string(), "tokenizer file");
}

/// Regex-escapes a literal Split pattern.
std::string escape_literal(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

struct PreTokenizerInfo {
  bool byte_level = false;
  std::vector<std::string> patterns;
  bool metaspace = false;
  bool metaspace_prepend = true;
  bool metaspace_first_only = false;
};

void collect_pre_tokenizer(const json& node, PreTokenizerInfo& info) {
  if (node.is_null()) return;
  const std::string type = node.value("type", "");
  if (type == "Sequence") {
    for (const auto& child : node.at("pretokenizers")) collect_pre_tokenizer(child, info);
  } else if (type == "ByteLevel") {
    info.byte_level = true;
    if (node.value("add_prefix_space", false)) {
      throw Error("pre-tokenizer ByteLevel with add_prefix_space=true is not supported; expected false");
    }
    if (node.value("use_regex", true)) {
      for (const auto& p : pre_tokenizer_patterns("gpt-2")) info.patterns.push_back(p);
    }
  } else if (type == "Split") {
    const json& pattern = node.at("pattern");
    const std::string behavior = node.value("behavior", "Isolated");
    if (behavior != "Isolated" || node.value("invert", false)) {
      throw Error(cat("pre-tokenizer Split with behavior '", behavior,
                      "' is not supported; expected behavior \"Isolated\", invert false"));
    }
    if (pattern.contains("Regex")) {
      info.patterns.push_back(pattern.at("Regex").get<std::string>());
    } else {
      info.patterns.push_back(escape_literal(pattern.at("String").get<std::string>()));
    }
  } else if (type == "Digits") {
    info.patterns.push_back(node.value("individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)");
  } else if (type == "Metaspace") {
    info.metaspace = true;
    if (node.value("split", false)) {
      throw Error("pre-tokenizer Metaspace with split=true is not supported; expected split false");
    }
    const std::string scheme = node.value("prepend_scheme", node.value("add_prefix_space", true) ? "always" : "never");
    info.metaspace_prepend = scheme != "never";
    info.metaspace_first_only = scheme == "first";
  } else {
    throw Error(cat("pre-tokenizer type '", type,
                    "' is not supported; expected ByteLevel, Split, Digits, Metaspace or a Sequence of them"));
  }
}

struct NormalizerInfo {
  bool prepend_mark = false;  // Prepend("▁")
  bool replace_space = false; // Replace(" ", "▁")
  bool nfc = false;           // NFC: accepted, not applied (input is taken to be NFC already)
};

void collect_normalizer(const json& node, NormalizerInfo& info) {
  if (node.is_null()) return;
  const std::string type = node.value("type", "");
  if (type == "Sequence") {
    for (const auto& child : node.at("normalizers")) collect_normalizer(child, info);
  } else if (type == "Prepend" && node.value("prepend", "") == "\xE2\x96\x81") {
    info.prepend_mark = true;
  } else if (type == "Replace" && node.at("pattern").value("String", "") == " " &&
             node.value("content", "") == "\xE2\x96\x81") {
    info.replace_space = true;
  } else if (type == "NFC") {
    // Qwen2 declares NFC; llama.cpp skips it too and matches the Qwen2 vectors. Text that is not
    // already NFC may tokenize differently from Hugging Face.
    info.nfc = true;
  } else {
    throw Error(cat("normalizer ", node.dump(),
                    " is not supported; expected NFC, Prepend(\"\xE2\x96\x81\"), Replace(\" \", \"\xE2\x96\x81\") "
                    "or a Sequence of them"));
  }
}

/// The first SpecialToken of post_processor.single (TemplateProcessing), i.e. the BOS it adds.
std::optional<std::string> template_bos(const json& node) {
  if (node.is_null()) return std::nullopt;
  const std::string type = node.value("type", "");
  if (type == "Sequence") {
    for (const auto& child : node.at("processors")) {
      if (auto bos = template_bos(child)) return bos;
    }
    return std::nullopt;
  }
  if (type != "TemplateProcessing" || !node.contains("single") || node.at("single").empty()) return std::nullopt;
  const json& first = node.at("single").front();
  if (!first.contains("SpecialToken")) return std::nullopt;
  return first.at("SpecialToken").at("id").get<std::string>();
}

std::optional<std::string> token_content(const json& config, const char* key) {
  if (!config.contains(key) || config.at(key).is_null()) return std::nullopt;
  const json& v = config.at(key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content")) return v.at("content").get<std::string>();
  return std::nullopt;
}

struct CommonVocab {
  std::vector<std::string> tokens;
  std::vector<TokenType> types;
  std::vector<std::pair<std::string, std::string>> merges;
  std::unordered_map<std::string, int64_t> ids;
  int64_t bos = -1;
  int64_t eos = -1;
  int64_t unk = -1;
  bool add_bos = false;
};

CommonVocab read_common(const json& root, const json& model, const fs::path& path, bool byte_tokens) {
  CommonVocab v;
  const json& vocab = model.at("vocab");
  int64_t size = 0;
  for (const auto& [text, id] : vocab.items()) size = std::max(size, id.get<int64_t>() + 1);
  for (const auto& added : root.value("added_tokens", json::array())) {
    const int64_t id = added.at("id").get<int64_t>();
    if (id < 0) throw Error(cat("added token ", added.dump(), " has negative id ", id));
    size = std::max(size, id + 1);
  }
  v.tokens.assign(size, std::string());
  v.types.assign(size, TokenType::kUnused);  // ids no entry names stay unused
  for (const auto& [text, id] : vocab.items()) {
    const int64_t i = id.get<int64_t>();
    if (i < 0) throw Error(cat("vocab entry '", text, "' has negative id ", i));
    v.tokens[i] = text;
    const bool is_byte = byte_tokens && text.size() == 6 && text.rfind("<0x", 0) == 0 && text[5] == '>';
    v.types[i] = is_byte ? TokenType::kByte : TokenType::kNormal;
  }
  for (const auto& added : root.value("added_tokens", json::array())) {
    const int64_t i = added.at("id").get<int64_t>();
    v.tokens[i] = added.at("content").get<std::string>();
    v.types[i] = added.value("special", false) ? TokenType::kControl : TokenType::kUserDefined;
  }
  for (int64_t i = 0; i < size; ++i) v.ids.emplace(v.tokens[i], i);
  for (const auto& merge : model.value("merges", json::array())) {
    if (merge.is_string()) {
      v.merges.push_back(split_merge_line(merge.get<std::string>()));
    } else if (merge.is_array() && merge.size() == 2) {
      v.merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
    } else {
      throw Error(cat("merge ", merge.dump(), " is malformed; expected \"a b\" or [\"a\", \"b\"]"));
    }
  }
  auto id_of = [&](const std::string& text, const char* what) {
    const auto it = v.ids.find(text);
    if (it == v.ids.end()) throw Error(cat(what, " '", text, "' is not in the vocabulary"));
    return it->second;
  };
  if (model.contains("unk_token") && model.at("unk_token").is_string()) {
    v.unk = id_of(model.at("unk_token").get<std::string>(), "unk_token");
  }
  if (auto bos = template_bos(root.value("post_processor", json()))) {
    v.bos = id_of(*bos, "post-processor BOS");
    v.add_bos = true;
  }
  const fs::path config_path = path.parent_path() / "tokenizer_config.json";
  if (fs::is_regular_file(config_path)) {
    try {
      const json config = read_json(config_path);
      if (auto bos = token_content(config, "bos_token")) v.bos = id_of(*bos, "bos_token");
      if (auto eos = token_content(config, "eos_token")) v.eos = id_of(*eos, "eos_token");
      if (config.contains("add_bos_token") && config.at("add_bos_token").is_boolean()) {
        v.add_bos = config.at("add_bos_token").get<bool>();
      }
    } catch (Error& e) {
      e.with_context(cat("while reading ", config_path.string()));
      throw;
    }
  }
  return v;
}

std::unique_ptr<Tokenizer> build(const json& root, const fs::path& path) {
  if (!root.is_object() || !root.contains("model")) {
    throw Error(cat("no \"model\" object; this is not a Hugging Face tokenizer.json. ", kSupported));
  }
  const json& model = root.at("model");
  const std::string type = model.value("type", model.contains("merges") ? "BPE" : "");
  if (type != "BPE") throw Error(cat("model.type '", type, "' is not supported; ", kSupported));
  // transformers 5 writes "" for both when it converts a GGUF's tokenizer: the same as null.
  auto affix_set = [&](const char* key) {
    const auto v = model.value(key, json());
    return !(v.is_null() || (v.is_string() && v.get<std::string>().empty()));
  };
  if (affix_set("continuing_subword_prefix") || affix_set("end_of_word_suffix")) {
    throw Error("BPE continuing_subword_prefix / end_of_word_suffix are not supported; expected null or \"\"");
  }

  PreTokenizerInfo pre;
  collect_pre_tokenizer(root.value("pre_tokenizer", json()), pre);
  NormalizerInfo norm;
  collect_normalizer(root.value("normalizer", json()), norm);
  const bool metaspace_normalizer = norm.prepend_mark || norm.replace_space;

  if (pre.byte_level) {
    if (metaspace_normalizer) {
      throw Error(cat("a \"\xE2\x96\x81\" normalizer with a ByteLevel pre-tokenizer is not supported; ", kSupported));
    }
    CommonVocab v = read_common(root, model, path, false);
    BpeVocab vocab;
    vocab.tokens = std::move(v.tokens);
    vocab.token_types = std::move(v.types);
    vocab.merges = std::move(v.merges);
    vocab.pre_patterns = std::move(pre.patterns);
    if (vocab.pre_patterns.empty()) vocab.pre_patterns.push_back(R"([\s\S]+)");  // no split: one piece
    vocab.bos = v.bos;
    vocab.eos = v.eos;
    vocab.add_bos = v.add_bos;
    vocab.ignore_merges = model.value("ignore_merges", false);
    return std::make_unique<BpeTokenizer>(std::move(vocab));
  }
  if (model.value("byte_fallback", false) || metaspace_normalizer || pre.metaspace) {
    if (!pre.patterns.empty()) {
      throw Error(cat("Split/Digits pre-tokenizers are not supported with a SentencePiece-style BPE; ", kSupported));
    }
    CommonVocab v = read_common(root, model, path, model.value("byte_fallback", false));
    ByteFallbackBpeVocab vocab;
    vocab.tokens = std::move(v.tokens);
    vocab.token_types = std::move(v.types);
    vocab.merges = std::move(v.merges);
    vocab.bos = v.bos;
    vocab.eos = v.eos;
    vocab.unk = v.unk;
    vocab.add_bos = v.add_bos;
    vocab.prepend_space = pre.metaspace ? pre.metaspace_prepend : norm.prepend_mark;
    vocab.prepend_first_only = pre.metaspace && pre.metaspace_first_only;
    vocab.byte_fallback = model.value("byte_fallback", false);
    vocab.fuse_unk = model.value("fuse_unk", false);
    vocab.ignore_merges = model.value("ignore_merges", false);
    return std::make_unique<ByteFallbackBpeTokenizer>(std::move(vocab));
  }
  throw Error(cat("BPE without a ByteLevel pre-tokenizer or byte_fallback is not supported; ", kSupported));
}

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer_json(const std::string& path) {
  try {
    if (!fs::is_regular_file(path)) throw Error(cat("file does not exist or is not a regular file"));
    return build(read_json(path), path);
  } catch (Error& e) {
    e.with_context(cat("while loading tokenizer ", path));
    throw;
  } catch (const nlohmann::json::exception& e) {
    Error error(cat("unexpected tokenizer.json structure: ", e.what()));
    error.with_context(cat("while loading tokenizer ", path));
    throw error;
  }
}

}  // namespace abq::tokenize

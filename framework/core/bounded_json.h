// JSON read from files abq did not write (safetensors headers and indexes, config.json,
// tokenizer.json, an exported abq_quant.json), parsed with limits: at most kMaxJsonDepth levels of
// nesting and no key twice in one object. Without them a header holding a shape nested 100,000
// deep parses fine and then overflows the stack in dump() while the error message is formatted,
// and a tensor listed twice silently keeps its last entry.
// Included by .cpp files only (nlohmann stays out of every folder's public headers).
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace abq {

/// Deeper than any model file needs (config.json nests 3 levels, a safetensors header 3,
/// tokenizer.json about 6).
constexpr int kMaxJsonDepth = 64;
/// Larger than any JSON file a model ships (LLaMA-3's tokenizer.json is 9 MB).
constexpr size_t kMaxJsonFileBytes = size_t(1) << 30;

/// Parses [begin, end). Throws abq::Error starting with `where` (the file, and the part of it:
/// "model.safetensors: header") for invalid JSON (with nlohmann's byte position), nesting deeper
/// than kMaxJsonDepth, or a key repeated in one object (naming the key).
nlohmann::json parse_bounded_json(const char* begin, const char* end, const std::string& where);
inline nlohmann::json parse_bounded_json(const std::string& text, const std::string& where) {
  return parse_bounded_json(text.data(), text.data() + text.size(), where);
}

/// The whole of `path` (a regular file: a FIFO would block the read; at most kMaxJsonFileBytes),
/// parsed as above; errors name `what` and the path.
nlohmann::json read_bounded_json_file(const std::string& path, const std::string& what);

/// `value` as JSON text for an error message, cut to at most `max_chars` characters (with "...").
std::string json_excerpt(const nlohmann::json& value, size_t max_chars = 80);

}  // namespace abq

#include "framework/io/hf_config.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "framework/core/regular_file.h"
#include "framework/io/hparam_ranges.h"

namespace abq::io {
namespace {

using nlohmann::json;

class ConfigReader {
 public:
  ConfigReader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  bool present(const json& obj, const char* key) const {
    auto it = obj.find(key);
    return it != obj.end() && !it->is_null();
  }
  int64_t integer(const json& obj, const char* key, const char* where = "") const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) throw Error(cat(path_, ": missing required key '", where, key, "'"));
    if (!it->is_number_integer()) {
      throw Error(cat(path_, ": '", where, key, "' must be an integer, got ", json_excerpt(*it)));
    }
    return it->get<int64_t>();
  }
  int64_t integer_or(const json& obj, const char* key, int64_t fallback, const char* where = "") const {
    return present(obj, key) ? integer(obj, key, where) : fallback;
  }
  double number_or(const json& obj, const char* key, double fallback, const char* where = "") const {
    if (!present(obj, key)) return fallback;
    const json& v = obj.at(key);
    if (!v.is_number()) throw Error(cat(path_, ": '", where, key, "' must be a number, got ", json_excerpt(v)));
    return v.get<double>();
  }
  bool boolean_or(const json& obj, const char* key, bool fallback) const {
    if (!present(obj, key)) return fallback;
    const json& v = obj.at(key);
    if (!v.is_boolean()) throw Error(cat(path_, ": '", key, "' must be true or false, got ", json_excerpt(v)));
    return v.get<bool>();
  }
  // bos/eos: an integer, null, or (eos in Llama 3.1) a list whose first entry is kept.
  int64_t token_id(const char* key) const {
    if (!present(j_, key)) return -1;
    const json& v = j_.at(key);
    if (v.is_array()) {
      if (v.empty()) return -1;
      if (!v[0].is_number_integer()) throw Error(cat(path_, ": '", key, "' must hold integers, got ", json_excerpt(v)));
      return v[0].get<int64_t>();
    }
    return integer(j_, key);
  }

 private:
  const json& j_;
  std::string path_;
};

}  // namespace

model::LlamaConfig llama_config_from_hf(const std::string& path) {
  // A FIFO or device would block the read below forever.
  if (const std::string type = file_type_name(path); type != "missing" && type != "a regular file")
    throw Error(cat("model config '", path, "' is ", type, "; expected a regular file"));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(cat("cannot open model config '", path, "'"));
  std::ostringstream text;
  text << in.rdbuf();
  const json j = parse_bounded_json(text.str(), path);
  if (!j.is_object()) throw Error(cat(path, ": expected a JSON object"));
  const ConfigReader r(j, path);

  model::LlamaConfig c;
  auto mt = j.find("model_type");
  if (mt == j.end() || !mt->is_string()) throw Error(cat(path, ": missing string key 'model_type'"));
  c.model_type = mt->get<std::string>();
  if (c.model_type != "llama" && c.model_type != "mistral" && c.model_type != "qwen2") {
    throw Error(cat(path, ": model_type '", c.model_type, "' is not supported; supported: llama, mistral, qwen2"));
  }
  c.vocab_size = r.integer(j, "vocab_size");
  c.hidden_size = r.integer(j, "hidden_size");
  c.intermediate_size = r.integer(j, "intermediate_size");
  c.num_layers = r.integer(j, "num_hidden_layers");
  c.num_heads = r.integer(j, "num_attention_heads");
  c.num_kv_heads = r.integer_or(j, "num_key_value_heads", c.num_heads);
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.intermediate_size <= 0 || c.num_layers <= 0 ||
      c.num_heads <= 0 || c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0) {
    throw Error(cat(path, ": implausible sizes: vocab_size ", c.vocab_size, ", hidden_size ", c.hidden_size,
                    ", intermediate_size ", c.intermediate_size, ", num_hidden_layers ", c.num_layers,
                    ", num_attention_heads ", c.num_heads, ", num_key_value_heads ", c.num_kv_heads,
                    " (all must be positive, heads a multiple of key/value heads)"));
  }
  if (r.present(j, "head_dim")) {
    c.head_dim = r.integer(j, "head_dim");
    if (c.head_dim <= 0) throw Error(cat(path, ": 'head_dim' must be positive, got ", c.head_dim));
  } else {
    if (c.hidden_size % c.num_heads != 0) {
      throw Error(cat(path, ": hidden_size ", c.hidden_size, " is not a multiple of num_attention_heads ",
                      c.num_heads, "; give head_dim explicitly"));
    }
    c.head_dim = c.hidden_size / c.num_heads;
  }
  c.max_position = r.integer_or(j, "max_position_embeddings", 2048);
  c.rope_theta = r.number_or(j, "rope_theta", 10000.0);
  c.rms_eps = r.number_or(j, "rms_norm_eps", 1e-6);
  c.tie_embeddings = r.boolean_or(j, "tie_word_embeddings", false);
  c.attention_bias = c.model_type == "qwen2" ? true : r.boolean_or(j, "attention_bias", false);
  c.bos_token_id = r.token_id("bos_token_id");
  c.eos_token_id = r.token_id("eos_token_id");

  std::string rope_theta_key = "rope_theta";
  // transformers >= 5 writes one `rope_parameters` object (rope_theta, rope_type, factor, ...)
  // instead of top-level rope_theta + rope_scaling; both spellings carry the same keys.
  const char* scaling_key = r.present(j, "rope_parameters") ? "rope_parameters" : "rope_scaling";
  if (r.present(j, scaling_key)) {
    const json& rs = j.at(scaling_key);
    const std::string prefix = std::string(scaling_key) + ".";
    if (!rs.is_object()) throw Error(cat(path, ": '", scaling_key, "' must be an object or null, got ", json_excerpt(rs)));
    if (rs.contains("rope_theta")) {
      c.rope_theta = r.number_or(rs, "rope_theta", c.rope_theta, prefix.c_str());
      rope_theta_key = prefix + "rope_theta";
    }
    std::string type;
    for (const char* key : {"rope_type", "type"}) {
      auto it = rs.find(key);
      if (type.empty() && it != rs.end() && it->is_string()) type = it->get<std::string>();
    }
    if (type == "llama3") {
      c.rope_scaling.type = "llama3";
      c.rope_scaling.factor = r.number_or(rs, "factor", 1.0, prefix.c_str());
      c.rope_scaling.low_freq_factor = r.number_or(rs, "low_freq_factor", 1.0, prefix.c_str());
      c.rope_scaling.high_freq_factor = r.number_or(rs, "high_freq_factor", 4.0, prefix.c_str());
      c.rope_scaling.original_max_position =
          r.integer_or(rs, "original_max_position_embeddings", 8192, prefix.c_str());
    } else if (type == "linear") {
      c.rope_scaling.type = "linear";
      c.rope_scaling.factor = r.number_or(rs, "factor", 1.0, prefix.c_str());
    } else if (!type.empty() && type != "default") {
      throw Error(cat(path, ": ", scaling_key, " type '", type, "' is not supported; supported: default, llama3, linear"));
    }
    if (c.rope_scaling.factor <= 0) {
      throw Error(cat(path, ": '", prefix, "factor' must be positive, got ", c.rope_scaling.factor));
    }
  }
  check_hparam_ranges(c, {"rms_norm_eps", rope_theta_key, "max_position_embeddings"}, path);
  return c;
}

}  // namespace abq::io

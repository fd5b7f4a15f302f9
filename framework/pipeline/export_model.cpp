#include "framework/pipeline/export_model.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "framework/core/bounded_json.h"
#include "framework/core/error.h"
#include "framework/core/regular_file.h"
#include "framework/io/safetensors_writer.h"
#include "framework/pipeline/packed_checkpoint.h"
#include "framework/quant/fake_quant.h"
#include "framework/quant/quant_spec_json.h"

namespace abq::pipeline {
namespace {

using json = nlohmann::ordered_json;

io::TensorToWrite tensor_to_write(const std::string& name, const torch::Tensor& t, const std::string& dtype) {
  const bool half = dtype == "float16";
  auto c = t.detach().to(torch::kCPU, half ? torch::kHalf : torch::kFloat32).contiguous();
  io::TensorToWrite out{name, half ? io::SafetensorsDtype::F16 : io::SafetensorsDtype::F32,
                        std::vector<int64_t>(c.sizes().begin(), c.sizes().end()), {}};
  out.bytes.resize(size_t(c.numel() * c.element_size()));
  std::memcpy(out.bytes.data(), c.data_ptr(), out.bytes.size());
  return out;
}

std::vector<io::TensorToWrite> hf_tensors(const model::LlamaModel& m, const std::string& dtype) {
  const auto& w = m.weights();
  std::vector<io::TensorToWrite> out;
  out.push_back(tensor_to_write("model.embed_tokens.weight", w.embed_tokens, dtype));
  for (int64_t i = 0; i < m.config().num_layers; ++i) {
    const auto& b = w.layers[size_t(i)];
    if (b.attn_input_transform.defined() || b.mlp_input_transform.defined() || b.down_input_transform.defined())
      throw Error(cat("export: layer ", i, " has online transforms (rotation / AffineQuant matrices), which an HF "
                      "checkpoint cannot hold; export runs without them"));
    if (b.attn_input_bias.defined() || b.mlp_input_bias.defined())
      throw Error(cat("export: layer ", i, " has norm input biases (AffineQuant shifts, let.shifts), which an HF "
                      "LLaMA RMSNorm cannot hold; export runs without shifts"));
    const std::string p = "model.";
    out.push_back(tensor_to_write(p + model::norm_weight_name(i, model::NormKind::input_layernorm), b.input_norm, dtype));
    out.push_back(tensor_to_write(p + model::norm_weight_name(i, model::NormKind::post_attention_layernorm),
                                  b.post_attention_norm, dtype));
    for (model::LinearKind kind : model::all_linear_kinds()) {
      const auto& lin = b.linear(kind);
      if (lin.weight.defined())  // a linear held only packed goes in as codes (packed_checkpoint.h)
        out.push_back(tensor_to_write(p + model::site_name(i, model::weight_site(kind)), lin.weight, dtype));
      if (lin.bias.defined()) out.push_back(tensor_to_write(p + model::linear_bias_name(i, kind), lin.bias, dtype));
    }
  }
  out.push_back(tensor_to_write("model.norm.weight", w.norm, dtype));
  if (!m.config().tie_embeddings) out.push_back(tensor_to_write("lm_head.weight", w.lm_head, dtype));
  return out;
}

json hf_config(const model::LlamaConfig& c, const std::string& dtype) {
  json j = {{"architectures", {c.model_type == "qwen2" ? "Qwen2ForCausalLM" : c.model_type == "mistral"
                                                             ? "MistralForCausalLM" : "LlamaForCausalLM"}},
            {"model_type", c.model_type},
            {"vocab_size", c.vocab_size},
            {"hidden_size", c.hidden_size},
            {"intermediate_size", c.intermediate_size},
            {"num_hidden_layers", c.num_layers},
            {"num_attention_heads", c.num_heads},
            {"num_key_value_heads", c.num_kv_heads},
            {"head_dim", c.head_dim},
            {"max_position_embeddings", c.max_position},
            {"rope_theta", c.rope_theta},
            {"rms_norm_eps", c.rms_eps},
            {"tie_word_embeddings", c.tie_embeddings},
            {"attention_bias", c.attention_bias},
            {"hidden_act", "silu"},
            {"torch_dtype", dtype}};
  j["bos_token_id"] = c.bos_token_id >= 0 ? json(c.bos_token_id) : json(nullptr);
  j["eos_token_id"] = c.eos_token_id >= 0 ? json(c.eos_token_id) : json(nullptr);
  if (c.rope_scaling.type == "none" || c.rope_scaling.type.empty()) {
    j["rope_scaling"] = nullptr;
  } else {
    j["rope_scaling"] = {{"rope_type", c.rope_scaling.type}, {"factor", c.rope_scaling.factor}};
    if (c.rope_scaling.type == "llama3") {
      j["rope_scaling"]["low_freq_factor"] = c.rope_scaling.low_freq_factor;
      j["rope_scaling"]["high_freq_factor"] = c.rope_scaling.high_freq_factor;
      j["rope_scaling"]["original_max_position_embeddings"] = c.rope_scaling.original_max_position;
    }
  }
  return j;
}

quant::QuantSpec spec_from_json(const json& j, const std::string& where) {
  try {
    auto s = quant::spec_from_json(j);
    quant::validate(s);
    return s;
  } catch (const json::exception& e) {
    throw Error(cat(where, ": ", e.what()));
  } catch (Error& e) {
    e.with_context(where);
    throw;
  }
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  if (!(out << text << "\n")) throw Error(cat("cannot write '", path, "'"));
}

}  // namespace

void export_model(const model::LlamaModel& model, const ExportedQuant& quant, const std::string& dir,
                  const std::string& dtype) {
  if (dtype != "float32" && dtype != "float16")
    throw ConfigError(cat("export dtype must be float32 or float16, got '", dtype, "'"));
  if (model.streamed()) throw Error(cat("export: ", model::kStreamedRefusal));
  json activations = json::object();
  for (const auto& [site, spec] : quant.activations) {
    if (!spec.dynamic)
      throw Error(cat("export: site '", site, "' uses static activation ranges (dynamic: false); abq_quant.json "
                      "records specs, not calibrated ranges, so such runs cannot be exported"));
    activations[site] = quant::spec_to_json(spec);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(cat("export: cannot create folder '", dir, "': ", ec.message()));
  auto tensors = hf_tensors(model, dtype);
  const std::string manifest = has_packed_linears(model) ? packed_tensors(model, tensors) : "";
  io::write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
  if (manifest.empty())
    std::filesystem::remove(dir + "/" + kPackedManifest, ec);  // a packed export replaced by a simulated one
  else
    write_text(dir + "/" + kPackedManifest, manifest);
  write_text(dir + "/config.json", hf_config(model.config(), dtype).dump(2));
  json q = {{"format", "abq_quant"}, {"version", 1}, {"setting", quant.setting}, {"activations", activations}};
  write_text(dir + "/abq_quant.json", q.dump(2));
}

bool read_exported_quant(const std::string& dir, ExportedQuant& out) {
  const std::string path = dir + "/abq_quant.json";
  if (file_type_name(path) == "missing") return false;
  const json j = read_bounded_json_file(path, "exported quantization file");
  if (j.value("format", "") != "abq_quant" || j.value("version", 0) != 1)
    throw Error(cat(path, ": expected \"format\": \"abq_quant\" and \"version\": 1"));
  out.setting = j.value("setting", "");
  out.activations.clear();
  for (const auto& [site, spec] : j.at("activations").items())
    out.activations[site] = spec_from_json(spec, cat(path, ": activations.", site));
  return true;
}

void install_activation_specs(model::LlamaModel& model, const std::map<std::string, quant::QuantSpec>& activations) {
  for (const auto& [site, spec] : activations)
    model.set_activation_hook(site, [spec = spec](const torch::Tensor& x) { return quant::fake_quant(x, spec).fake; });
}

}  // namespace abq::pipeline

#include "framework/calib/block_checkpoint.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "framework/calib/tensor_file.h"
#include "framework/core/error.h"
#include "framework/quant/quant_spec_json.h"

namespace abq::calib {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "abq-calib-checkpoint-2";

// The block's online transforms and norm input biases by checkpoint name (defined or not).
template <typename Block>
auto block_extras(Block& block, int64_t layer) {
  const std::string prefix = cat("layers.", layer, ".");
  return std::vector<std::pair<std::string, decltype(&block.input_norm)>>{
      {prefix + "attn_input_transform", &block.attn_input_transform},
      {prefix + "mlp_input_transform", &block.mlp_input_transform},
      {prefix + "down_input_transform", &block.down_input_transform},
      {prefix + "attn_input_bias", &block.attn_input_bias},
      {prefix + "mlp_input_bias", &block.mlp_input_bias}};
}

// Every tensor a calibration may add to a block that the loaded model lacks (LLaMA linears have
// no bias until shifts give them one), defined or not.
std::vector<std::pair<std::string, torch::Tensor*>> optional_slots(model::DecoderBlock& block, int64_t layer) {
  auto out = block_extras(block, layer);
  for (model::LinearKind kind : model::all_linear_kinds())
    out.emplace_back(model::linear_bias_name(layer, kind), &block.linear(kind).bias);
  return out;
}

std::string block_file(const std::string& dir, int64_t block) { return (fs::path(dir) / cat("block_", block, ".bin")).string(); }
std::string streams_file(const std::string& dir, int64_t block) {
  return (fs::path(dir) / cat("streams_", block, ".bin")).string();
}
std::string state_file(const std::string& dir) { return (fs::path(dir) / "state.json").string(); }

// Every tensor of block `layer`, by its checkpoint name, as pointers into the model
// (const or mutable, following `Model`). Linear biases, online transforms and norm input biases
// are listed when defined.
template <typename Model>
auto block_tensors(Model& model, int64_t layer) {
  auto& block = model.weights().layers[size_t(layer)];
  std::vector<std::pair<std::string, decltype(&block.input_norm)>> out;
  out.emplace_back(model::norm_weight_name(layer, model::NormKind::input_layernorm), &block.input_norm);
  out.emplace_back(model::norm_weight_name(layer, model::NormKind::post_attention_layernorm), &block.post_attention_norm);
  for (model::LinearKind kind : model::all_linear_kinds()) {
    auto& linear = block.linear(kind);
    out.emplace_back(model::site_name(layer, model::weight_site(kind)), &linear.weight);
    if (linear.bias.defined()) out.emplace_back(model::linear_bias_name(layer, kind), &linear.bias);
  }
  for (auto& [name, slot] : block_extras(block, layer))
    if (slot->defined()) out.emplace_back(name, slot);
  return out;
}

// JSON cannot hold NaN / ±inf; they travel as strings. Finite doubles round-trip exactly.
json number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}
double number_from(const json& j) {
  if (j.is_string()) {
    const auto s = j.get<std::string>();
    if (s == "nan") return NAN;
    return s == "inf" ? INFINITY : -INFINITY;
  }
  return j.get<double>();
}

json report_to_json(const CalibrationReport& r) {
  json sites = json::array(), blocks = json::array(), fallbacks = json::array();
  for (const auto& s : r.sites)
    sites.push_back({{"site", s.site}, {"spec", quant::spec_to_json(s.spec)}, {"quantizer", s.quantizer},
                     {"mse", number(s.mse)}, {"sqnr_db", number(s.sqnr_db)}, {"layer_loss", number(s.layer_loss)}});
  for (const auto& b : r.blocks)
    blocks.push_back({{"block", b.block}, {"seconds", number(b.seconds)}, {"output_mse", number(b.output_mse)},
                      {"local_mse", number(b.local_mse)}, {"first_loss", number(b.first_loss)},
                      {"final_loss", number(b.final_loss)}, {"restarts", b.restarts}, {"skipped_steps", b.skipped_steps}});
  for (const auto& f : r.fallbacks)
    fallbacks.push_back({{"block", f.block}, {"from", f.from}, {"to", f.to}, {"reason", f.reason}});
  return {{"sites", sites}, {"blocks", blocks}, {"fallbacks", fallbacks}};
}
CalibrationReport report_from_json(const json& j) {
  CalibrationReport r;
  for (const auto& s : j.at("sites"))
    r.sites.push_back({s.at("site").get<std::string>(), quant::spec_from_json(s.at("spec")), s.at("quantizer").get<std::string>(),
                       number_from(s.at("mse")), number_from(s.at("sqnr_db")), number_from(s.at("layer_loss"))});
  for (const auto& b : j.at("blocks")) {
    BlockStats stats{b.at("block").get<int64_t>(), number_from(b.at("seconds")), number_from(b.at("output_mse")),
                     number_from(b.at("local_mse"))};
    stats.first_loss = number_from(b.at("first_loss"));
    stats.final_loss = number_from(b.at("final_loss"));
    stats.restarts = b.at("restarts").get<int64_t>();
    stats.skipped_steps = b.at("skipped_steps").get<int64_t>();
    r.blocks.push_back(stats);
  }
  for (const auto& f : j.at("fallbacks"))
    r.fallbacks.push_back({f.at("block").get<int64_t>(), f.at("from").get<std::string>(), f.at("to").get<std::string>(),
                           f.at("reason").get<std::string>()});
  return r;
}

void write_text_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw Error(cat("cannot write ", tmp));
    out << text;
    out.flush();
    if (!out) throw Error(cat("writing ", tmp, " failed (disk full?)"));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw Error(cat("cannot rename ", tmp, " to ", path, ": ", ec.message()));
}

}  // namespace

void save_block_checkpoint(const std::string& dir, const std::string& fingerprint, int64_t block,
                           const model::LlamaModel& model, const Streams& streams, const CalibrationReport& report) {
  try {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(cat("cannot create checkpoint directory ", dir, ": ", ec.message()));

    NamedTensors baked;
    for (const auto& [name, tensor] : block_tensors(model, block)) baked.emplace_back(name, *tensor);
    save_tensors(block_file(dir, block), baked);

    NamedTensors stream_tensors;
    for (size_t j = 0; j < streams.fp.size(); ++j) stream_tensors.emplace_back(cat("fp.", j), streams.fp[j]);
    for (size_t j = 0; j < streams.q.size(); ++j) stream_tensors.emplace_back(cat("q.", j), streams.q[j]);
    save_tensors(streams_file(dir, block), stream_tensors);

    json state = {{"format", kFormat}, {"fingerprint", fingerprint}, {"next_block", block + 1},
                  {"report", report_to_json(report)}};
    write_text_atomically(state_file(dir), state.dump(1));
    if (block > 0) fs::remove(streams_file(dir, block - 1), ec);  // superseded; a leftover is harmless
  } catch (Error& e) {
    e.with_context(cat("while checkpointing block ", block, " to ", dir));
    throw;
  }
}

std::optional<ResumeState> load_block_checkpoint(const std::string& dir, const std::string& fingerprint,
                                                 model::LlamaModel& model, const torch::Device& stream_device) {
  if (dir.empty() || !fs::exists(state_file(dir))) return std::nullopt;
  try {
    std::ifstream in(state_file(dir));
    json state;
    try {
      state = json::parse(in);
    } catch (const json::exception& e) {
      throw Error(cat(state_file(dir), " is not valid JSON: ", e.what()));
    }
    if (state.value("format", "") != kFormat)
      throw Error(cat(state_file(dir), ": expected format '", kFormat, "', got '", state.value("format", ""), "'"));
    const auto found = state.at("fingerprint").get<std::string>();
    if (found != fingerprint)
      throw Error(cat("checkpoint ", dir, " belongs to another run (fingerprint ", found, ", this run ", fingerprint,
                      "); remove it or choose another checkpoint directory"));
    ResumeState resume;
    resume.next_block = state.at("next_block").get<int64_t>();
    const int64_t num_layers = model.config().num_layers;
    if (resume.next_block < 1 || resume.next_block > num_layers)
      throw Error(cat(state_file(dir), ": next_block ", resume.next_block, " outside 1..", num_layers));
    resume.report = report_from_json(state.at("report"));

    for (int64_t b = 0; b < resume.next_block; ++b) {
      const auto path = block_file(dir, b);
      auto loaded = load_tensors(path);
      for (auto& [name, slot] : optional_slots(model.weights().layers[size_t(b)], b))  // baked ones are new
        for (const auto& [found_name, tensor] : loaded)
          if (found_name == name && !slot->defined()) *slot = torch::empty(tensor.sizes(), tensor.options().device(model.device()));
      auto targets = block_tensors(model, b);
      if (loaded.size() != targets.size())
        throw Error(cat(path, ": expected ", targets.size(), " tensors, found ", loaded.size()));
      for (size_t k = 0; k < targets.size(); ++k) {
        auto& [name, target] = targets[k];
        const auto& [found_name, tensor] = loaded[k];
        if (found_name != name) throw Error(cat(path, ": tensor ", k, " should be '", name, "', found '", found_name, "'"));
        if (tensor.sizes() != target->sizes() || tensor.scalar_type() != target->scalar_type()) {
          std::ostringstream msg;
          msg << path << ": tensor '" << name << "' is " << tensor.scalar_type() << " " << tensor.sizes() << ", the model has "
              << target->scalar_type() << " " << target->sizes();
          throw Error(msg.str());
        }
        *target = tensor.to(target->device());
      }
    }
    model.check_weights();

    const auto path = streams_file(dir, resume.next_block - 1);
    for (auto& [name, tensor] : load_tensors(path)) {
      auto& stream = name.rfind("fp.", 0) == 0 ? resume.streams.fp : resume.streams.q;
      stream.push_back(tensor.to(stream_device));
    }
    if (resume.streams.fp.size() != resume.streams.q.size())
      throw Error(cat(path, ": ", resume.streams.fp.size(), " fp windows but ", resume.streams.q.size(), " quantized windows"));
    return resume;
  } catch (Error& e) {
    e.with_context(cat("while resuming calibration from ", dir));
    throw;
  }
}

}  // namespace abq::calib

#include "framework/methods/corrections/activation_stats.h"

#include <chrono>
#include <cstring>

#include "framework/core/error.h"

namespace abq::methods {
namespace {

// Restores the model's hooks when it leaves scope.
class HookSnapshot {
 public:
  explicit HookSnapshot(model::LlamaModel& m) : model_(m), saved_(m.activation_hooks()) {}
  ~HookSnapshot() { model_.set_activation_hooks(std::move(saved_)); }
  HookSnapshot(const HookSnapshot&) = delete;
  HookSnapshot& operator=(const HookSnapshot&) = delete;

 private:
  model::LlamaModel& model_;
  std::vector<model::LayerHooks> saved_;
};

constexpr char kAbsmaxMagic[8] = {'a', 'b', 'q', 'a', 'm', 'x', '0', '1'};
// Bumped whenever what collect_input_absmax computes changes, so older entries are never read.
constexpr char kAbsmaxStage[] = "activation_stats input_absmax v1";

void append_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); }

bool read_u64(const std::string& in, size_t& at, uint64_t& v) {
  if (in.size() - at < sizeof(v)) return false;
  std::memcpy(&v, in.data() + at, sizeof(v));
  at += sizeof(v);
  return true;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string encode_absmax(const std::map<std::string, torch::Tensor>& absmax) {
  std::string out(kAbsmaxMagic, sizeof(kAbsmaxMagic));
  append_u64(out, absmax.size());
  for (const auto& [site, t] : absmax) {
    const auto values = t.detach().to(torch::kCPU, torch::kFloat32).contiguous().reshape({-1});  // [in]
    append_u64(out, site.size());
    out += site;
    append_u64(out, uint64_t(values.numel()));
    out.append(static_cast<const char*>(values.data_ptr()), size_t(values.numel()) * sizeof(float));
  }
  return out;
}

std::optional<std::map<std::string, torch::Tensor>> decode_absmax(const std::string& bytes) {
  if (bytes.size() < sizeof(kAbsmaxMagic) || bytes.compare(0, sizeof(kAbsmaxMagic), kAbsmaxMagic, sizeof(kAbsmaxMagic)) != 0)
    return std::nullopt;
  size_t at = sizeof(kAbsmaxMagic);
  uint64_t count = 0;
  if (!read_u64(bytes, at, count)) return std::nullopt;
  std::map<std::string, torch::Tensor> out;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t name_size = 0, numel = 0;
    if (!read_u64(bytes, at, name_size) || name_size > bytes.size() - at) return std::nullopt;
    std::string site = bytes.substr(at, name_size);
    at += name_size;
    if (!read_u64(bytes, at, numel) || numel > (bytes.size() - at) / sizeof(float)) return std::nullopt;
    auto values = torch::empty({int64_t(numel)}, torch::kFloat32);
    std::memcpy(values.data_ptr(), bytes.data() + at, numel * sizeof(float));
    at += numel * sizeof(float);
    out[site] = values;
  }
  if (at != bytes.size()) return std::nullopt;
  return out;
}

std::map<std::string, torch::Tensor> cached_input_absmax(model::LlamaModel& model,
                                                         const std::vector<torch::Tensor>& calibration_tokens,
                                                         CorrectionCache* cache) {
  const auto start = std::chrono::steady_clock::now();
  const bool enabled = cache && cache->cache && cache->cache->enabled() && !cache->key.empty();
  const std::string key = enabled ? stage_key({kAbsmaxStage, cache->key}) : "";
  std::map<std::string, torch::Tensor> absmax;
  std::string outcome = "off";
  if (enabled) {
    if (auto bytes = cache->cache->get("activation_stats", key))
      if (auto decoded = decode_absmax(*bytes)) {
        for (auto& [site, t] : *decoded) absmax[site] = t.to(model.device());
        outcome = "hit";
      }
  }
  if (outcome != "hit") {
    absmax = collect_input_absmax(model, calibration_tokens);
    if (enabled) {
      cache->cache->put("activation_stats", key, encode_absmax(absmax));
      outcome = "miss";
    }
  }
  if (cache) cache->uses["activation_stats"] = {outcome, seconds_since(start)};
  return absmax;
}

std::map<std::string, torch::Tensor> collect_input_absmax(model::LlamaModel& model,
                                                          const std::vector<torch::Tensor>& calibration_tokens) {
  if (calibration_tokens.empty())
    throw Error("collecting activation statistics: no calibration batches were given");
  const int64_t num_layers = model.config().num_layers;
  // Indexed [layer][linear]; filled by the observers, keyed by site name at the end.
  std::vector<std::vector<torch::Tensor>> absmax(static_cast<size_t>(num_layers),
                                                 std::vector<torch::Tensor>(model::kNumLinearKinds));
  HookSnapshot restore(model);
  model.clear_activation_hooks();
  for (int64_t layer = 0; layer < num_layers; ++layer) {
    for (model::LinearKind linear : model::all_linear_kinds()) {
      torch::Tensor& slot = absmax[static_cast<size_t>(layer)][static_cast<size_t>(linear)];
      model.set_activation_hook(layer, model::input_site(linear), [&slot](const torch::Tensor& x) {
        // x [B, T, in] -> per-channel max |x| over all tokens, kept in fp32.
        auto batch_max = x.detach().abs().reshape({-1, x.size(-1)}).amax(0).to(torch::kFloat32);
        slot = slot.defined() ? torch::maximum(slot, batch_max) : batch_max;
        return x;
      });
    }
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < calibration_tokens.size(); ++i) {
    const auto& tokens = calibration_tokens[i];
    if (!tokens.defined() || tokens.dim() != 2)
      throw Error(cat("calibration batch ", i, " must be a [B, T] token tensor, got ",
                      tokens.defined() ? std::to_string(tokens.dim()) + " dimensions" : "an undefined tensor"));
    // The final norm and lm_head do not feed any linear input site; stop after the last block.
    auto x = model.embed(tokens);
    for (int64_t layer = 0; layer < num_layers; ++layer) x = model.block_forward(layer, x);
  }
  std::map<std::string, torch::Tensor> out;
  for (int64_t layer = 0; layer < num_layers; ++layer)
    for (model::LinearKind linear : model::all_linear_kinds())
      out[model::site_name(layer, model::input_site(linear))] =
          absmax[static_cast<size_t>(layer)][static_cast<size_t>(linear)];
  return out;
}

}  // namespace abq::methods

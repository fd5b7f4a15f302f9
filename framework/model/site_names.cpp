#include "framework/model/site_names.h"

#include <array>
#include <cstdlib>

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"

namespace abq::model {
namespace {

struct SiteEntry {
  SiteKind kind;
  const char* suffix;
  int linear;  // index into kLinearNames, -1 for attention tensors
  enum Role { weight, input, attention } role;
};

// The table. Order must match the SiteKind enum (checked by site_table()).
constexpr std::array<SiteEntry, kNumSiteKinds> kSites = {{
    {SiteKind::q_proj_weight, "self_attn.q_proj.weight", 0, SiteEntry::weight},
    {SiteKind::q_proj_input, "self_attn.q_proj.input", 0, SiteEntry::input},
    {SiteKind::k_proj_weight, "self_attn.k_proj.weight", 1, SiteEntry::weight},
    {SiteKind::k_proj_input, "self_attn.k_proj.input", 1, SiteEntry::input},
    {SiteKind::v_proj_weight, "self_attn.v_proj.weight", 2, SiteEntry::weight},
    {SiteKind::v_proj_input, "self_attn.v_proj.input", 2, SiteEntry::input},
    {SiteKind::o_proj_weight, "self_attn.o_proj.weight", 3, SiteEntry::weight},
    {SiteKind::o_proj_input, "self_attn.o_proj.input", 3, SiteEntry::input},
    {SiteKind::gate_proj_weight, "mlp.gate_proj.weight", 4, SiteEntry::weight},
    {SiteKind::gate_proj_input, "mlp.gate_proj.input", 4, SiteEntry::input},
    {SiteKind::up_proj_weight, "mlp.up_proj.weight", 5, SiteEntry::weight},
    {SiteKind::up_proj_input, "mlp.up_proj.input", 5, SiteEntry::input},
    {SiteKind::down_proj_weight, "mlp.down_proj.weight", 6, SiteEntry::weight},
    {SiteKind::down_proj_input, "mlp.down_proj.input", 6, SiteEntry::input},
    {SiteKind::attn_q, "self_attn.q", -1, SiteEntry::attention},
    {SiteKind::attn_k, "self_attn.k", -1, SiteEntry::attention},
    {SiteKind::attn_v, "self_attn.v", -1, SiteEntry::attention},
}};

constexpr std::array<const char*, kNumLinearKinds> kLinearNames = {
    "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
    "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};

constexpr const char* kLayerPrefix = "layers.";

const SiteEntry& entry(SiteKind kind) {
  const auto& e = kSites[static_cast<size_t>(kind)];
  ABQ_ASSERT(e.kind == kind, "site table out of order at ", static_cast<int>(kind));
  return e;
}

}  // namespace

const std::vector<SiteKind>& all_site_kinds() {
  static const std::vector<SiteKind> kinds = [] {
    std::vector<SiteKind> out;
    for (const auto& e : kSites) out.push_back(e.kind);
    return out;
  }();
  return kinds;
}

const std::vector<LinearKind>& all_linear_kinds() {
  static const std::vector<LinearKind> kinds = {LinearKind::q_proj,    LinearKind::k_proj,
                                                LinearKind::v_proj,    LinearKind::o_proj,
                                                LinearKind::gate_proj, LinearKind::up_proj,
                                                LinearKind::down_proj};
  return kinds;
}

const char* site_suffix(SiteKind kind) { return entry(kind).suffix; }

std::string site_name(int64_t layer, SiteKind kind) {
  return kLayerPrefix + std::to_string(layer) + "." + site_suffix(kind);
}

const char* linear_name(LinearKind linear) { return kLinearNames[static_cast<size_t>(linear)]; }

std::string norm_weight_name(int64_t layer, NormKind norm) {
  const char* name = norm == NormKind::input_layernorm ? "input_layernorm" : "post_attention_layernorm";
  return kLayerPrefix + std::to_string(layer) + "." + name + ".weight";
}

std::string linear_bias_name(int64_t layer, LinearKind linear) {
  return kLayerPrefix + std::to_string(layer) + "." + linear_name(linear) + ".bias";
}

std::optional<SiteRef> parse_site(const std::string& name) {
  const std::string prefix = kLayerPrefix;
  if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  size_t pos = prefix.size();
  size_t digits_end = pos;
  while (digits_end < name.size() && name[digits_end] >= '0' && name[digits_end] <= '9') ++digits_end;
  // Digits, then a dot; no sign, no leading zeros (so every site has exactly one spelling).
  if (digits_end == pos || digits_end - pos > 9 || digits_end >= name.size() || name[digits_end] != '.')
    return std::nullopt;
  if (name[pos] == '0' && digits_end - pos > 1) return std::nullopt;
  const int64_t layer = std::strtoll(name.substr(pos, digits_end - pos).c_str(), nullptr, 10);
  const std::string suffix = name.substr(digits_end + 1);
  for (const auto& e : kSites) {
    if (suffix == e.suffix) return SiteRef{layer, e.kind};
  }
  return std::nullopt;
}

std::vector<std::string> all_sites(const LlamaConfig& config) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(config.num_layers) * kNumSiteKinds);
  for (int64_t layer = 0; layer < config.num_layers; ++layer) {
    for (const auto& e : kSites) out.push_back(site_name(layer, e.kind));
  }
  return out;
}

SiteRef require_site(const std::string& name, const LlamaConfig& config) {
  auto site = parse_site(name);
  if (site && site->layer < config.num_layers) return *site;
  std::string message = cat("unknown site '", name, "'");
  if (site) message += cat(" (the model has ", config.num_layers, " layers: 0..", config.num_layers - 1, ")");
  const std::string suggestion = closest_match(name, all_sites(config));
  if (!suggestion.empty()) message += cat("; did you mean '", suggestion, "'?");
  std::vector<std::string> suffixes;
  for (const auto& e : kSites) suffixes.push_back(e.suffix);
  message += cat(" (sites are layers.<i>.<suffix> with i in 0..", config.num_layers - 1,
                 " and suffix one of: ", join(suffixes), ")");
  throw Error(message);
}

bool is_weight(SiteKind kind) { return entry(kind).role == SiteEntry::weight; }
bool is_input(SiteKind kind) { return entry(kind).role == SiteEntry::input; }
bool is_attention(SiteKind kind) { return entry(kind).role == SiteEntry::attention; }

LinearKind linear_of(SiteKind kind) {
  const auto& e = entry(kind);
  ABQ_ASSERT(e.linear >= 0, "site '", e.suffix, "' belongs to no linear");
  return static_cast<LinearKind>(e.linear);
}

SiteKind weight_site(LinearKind linear) { return static_cast<SiteKind>(2 * static_cast<int>(linear)); }
SiteKind input_site(LinearKind linear) { return static_cast<SiteKind>(2 * static_cast<int>(linear) + 1); }

}  // namespace abq::model

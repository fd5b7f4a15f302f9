// Named quantization sites: the one table that spells every per-layer site name
// (`layers.7.mlp.down_proj.weight`, `layers.7.self_attn.q_proj.input`, `layers.7.self_attn.k`),
// in the style of llama.cpp's llama-arch tables. Nothing else formats or parses these names.
// Pure C++ so config/, store/ and allocations can name sites without LibTorch.
//
// Per layer i and linear L in {self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj}:
//   layers.{i}.{L}.weight   the linear's weight [out, in]
//   layers.{i}.{L}.input    the linear's input activation [B, T, in]
//   layers.{i}.self_attn.q  Q after RoPE            [B, H, T, D]
//   layers.{i}.self_attn.k  K after RoPE, before the GQA repeat   [B, Hkv, T, D]
//   layers.{i}.self_attn.v  V as projected, before the GQA repeat [B, Hkv, T, D]
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "framework/model/llama_config.h"

namespace abq::model {

/// The seven linears of a decoder block, in execution order.
enum class LinearKind { q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj };
inline constexpr int kNumLinearKinds = 7;

/// Every per-layer site. Values index the per-layer hook arrays (see activation_hooks.h).
enum class SiteKind {
  q_proj_weight, q_proj_input,
  k_proj_weight, k_proj_input,
  v_proj_weight, v_proj_input,
  o_proj_weight, o_proj_input,
  gate_proj_weight, gate_proj_input,
  up_proj_weight, up_proj_input,
  down_proj_weight, down_proj_input,
  attn_q, attn_k, attn_v,
};
inline constexpr int kNumSiteKinds = 17;

/// The RMSNorm weights of a block (not quantization sites; named here so the names stay in one table).
enum class NormKind { input_layernorm, post_attention_layernorm };

/// Names of the tensors outside the blocks (HF names without the "model." prefix).
inline constexpr const char* kEmbedTokensName = "embed_tokens.weight";
inline constexpr const char* kFinalNormName = "norm.weight";
inline constexpr const char* kLmHeadName = "lm_head.weight";

/// One parsed site name.
struct SiteRef {
  int64_t layer = 0;
  SiteKind kind = SiteKind::q_proj_weight;
  bool operator==(const SiteRef& o) const { return layer == o.layer && kind == o.kind; }
};

/// All per-layer site kinds in table order.
const std::vector<SiteKind>& all_site_kinds();
/// All linears in execution order.
const std::vector<LinearKind>& all_linear_kinds();

/// "layers.{layer}.{suffix}", e.g. site_name(3, SiteKind::down_proj_input) == "layers.3.mlp.down_proj.input".
std::string site_name(int64_t layer, SiteKind kind);
/// The part after "layers.{i}.": "mlp.down_proj.input".
const char* site_suffix(SiteKind kind);
/// "self_attn.q_proj", "mlp.down_proj" ...
const char* linear_name(LinearKind linear);
/// "layers.{layer}.{norm}.weight", e.g. "layers.0.input_layernorm.weight".
std::string norm_weight_name(int64_t layer, NormKind norm);
/// "layers.{layer}.{linear}.bias".
std::string linear_bias_name(int64_t layer, LinearKind linear);

/// Parses a site name; std::nullopt when the text is not a site name (no range check on the layer).
std::optional<SiteRef> parse_site(const std::string& name);
/// Parses and checks the layer against config.num_layers; throws abq::Error with a "did you mean"
/// from all_sites(config) when the name is unknown or the layer is out of range.
SiteRef require_site(const std::string& name, const LlamaConfig& config);

/// Every site of the model, layer by layer in table order.
std::vector<std::string> all_sites(const LlamaConfig& config);

bool is_weight(SiteKind kind);     // *.weight
bool is_input(SiteKind kind);      // *.input (a linear's input activation)
bool is_attention(SiteKind kind);  // self_attn.q / .k / .v
/// Activation sites accept hooks: inputs and attention tensors.
inline bool is_activation(SiteKind kind) { return !is_weight(kind); }

/// The linear a weight or input site belongs to; throws std::logic_error for attention sites.
LinearKind linear_of(SiteKind kind);
SiteKind weight_site(LinearKind linear);
SiteKind input_site(LinearKind linear);

}  // namespace abq::model

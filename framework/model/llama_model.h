// LlamaModel: the LLaMA-family decoder (LLaMA 1/2/3, Mistral, Qwen2, SmolLM2) as plain tensors
// plus free functions (llm.c / CTranslate2 style). Computes in the weights' dtype on the weights'
// device. Shape legend: see framework/model/README.md (B, T, C, H, Hkv, D, F, V).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/model/activation_hooks.h"
#include "framework/model/attention.h"
#include "framework/model/decoder_block.h"
#include "framework/model/llama_config.h"
#include "framework/model/rope.h"
#include "framework/model/site_names.h"

namespace abq::model {

struct LlamaWeights {
  torch::Tensor embed_tokens;         // [V, C]
  std::vector<DecoderBlock> layers;   // num_layers
  torch::Tensor norm;                 // [C]
  torch::Tensor lm_head;              // [V, C]; same storage as embed_tokens when tied
};

/// Fills defaults (head_dim = C / H, num_kv_heads = H when 0) and checks the hyper-parameters;
/// throws abq::Error naming the field, the requirement and the value.
LlamaConfig resolve_config(LlamaConfig config);

class LlamaModel {
 public:
  /// Resolves the config and checks every weight's presence, shape, dtype and device, e.g.
  /// "tensor 'layers.3.mlp.down_proj.weight' has wrong shape; expected [C, F] = [32, 64], got [64, 32]".
  /// With tie_embeddings an undefined lm_head is set to embed_tokens.
  LlamaModel(LlamaConfig config, LlamaWeights weights);

  const LlamaConfig& config() const { return config_; }
  /// Mutable access for corrections and quantizers; call check_weights() after replacing tensors.
  LlamaWeights& weights() { return weights_; }
  const LlamaWeights& weights() const { return weights_; }
  AttentionDims attention_dims() const;
  torch::Device device() const { return weights_.embed_tokens.device(); }
  torch::ScalarType dtype() const { return weights_.embed_tokens.scalar_type(); }

  /// Re-runs the constructor's checks (throws abq::Error).
  void check_weights() const;
  /// Moves / casts every weight, keeping embed_tokens and lm_head shared when tied.
  void to(const torch::Device& device, torch::ScalarType dtype);

  torch::Tensor embed(const torch::Tensor& tokens) const;                              // [B,T] int64 -> [B,T,C]
  /// One decoder block at positions 0..T-1, with this layer's hooks: [B,T,C] -> [B,T,C].
  torch::Tensor block_forward(int64_t layer, const torch::Tensor& x) const;
  torch::Tensor final_hidden(const torch::Tensor& tokens) const;                       // after final norm, [B,T,C]
  torch::Tensor lm_head(const torch::Tensor& hidden) const;                            // [B,T,C] -> [B,T,V]
  torch::Tensor forward(const torch::Tensor& tokens) const;                            // logits [B,T,V]
  /// RoPE cos / sin for positions 0..T-1 (cached per T, device, dtype).
  RopeTable rope(int64_t num_tokens, const torch::Device& device, torch::ScalarType dtype) const;

  /// Installs `hook` at an activation site (`layers.{i}.{linear}.input`, `layers.{i}.self_attn.{q,k,v}`),
  /// replacing any hook there. Unknown or weight sites throw abq::Error (with a "did you mean").
  void set_activation_hook(const std::string& site, ActivationHook hook);
  void set_activation_hook(int64_t layer, SiteKind kind, ActivationHook hook);
  void clear_activation_hooks();
  /// Snapshot / restore of every layer's hooks (one LayerHooks per layer).
  const std::vector<LayerHooks>& activation_hooks() const { return hooks_; }
  void set_activation_hooks(std::vector<LayerHooks> hooks);

 private:
  LlamaConfig config_;
  LlamaWeights weights_;
  RopeCache rope_cache_;
  std::vector<LayerHooks> hooks_;  // [num_layers]
};

/// A seeded random model in `dtype` on the CPU, deterministic for a given (config, seed): linears and
/// embeddings ~ N(0, 0.02²), biases (attention_bias) ~ N(0, 0.02²), norm weights 1 + N(0, 0.1²)
/// so per-channel scales differ (non-trivial SmoothQuant).
LlamaModel make_random_model(const LlamaConfig& config, uint64_t seed,
                             torch::ScalarType dtype = torch::kFloat32);

}  // namespace abq::model

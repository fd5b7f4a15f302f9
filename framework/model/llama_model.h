// LlamaModel: the LLaMA-family decoder (LLaMA 1/2/3, Mistral, Qwen2, SmolLM2) as plain tensors
// plus free functions (llm.c / CTranslate2 style). Computes in the weights' dtype on the weights'
// device. Shape legend: see framework/model/README.md (B, T, C, H, Hkv, D, F, V).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/model/activation_hooks.h"
#include "framework/model/attention.h"
#include "framework/model/decoder_block.h"
#include "framework/model/kv_cache.h"
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

/// Decoder blocks read on demand (streamed checkpoints). `load(layer)` returns block `layer` with
/// every tensor of the block in the model's compute dtype (any device: the model moves it);
/// `release(layer)` runs once the block has been used, so the source can give back the memory
/// behind it (e.g. the mapped checkpoint pages). Both are called from const, possibly concurrent,
/// forwards.
struct BlockSource {
  std::function<DecoderBlock(int64_t layer)> load;
  std::function<void(int64_t layer)> release;
};

/// Rewrites a freshly loaded block of a streamed model before use (e.g. weight quantization).
using BlockTransform = std::function<void(int64_t layer, DecoderBlock& block)>;

/// Fills defaults (head_dim = C / H, num_kv_heads = H when 0) and checks the hyper-parameters;
/// throws abq::Error naming the field, the requirement and the value.
LlamaConfig resolve_config(LlamaConfig config);

class LlamaModel {
 public:
  /// Resolves the config and checks every weight's presence, shape, dtype and device, e.g.
  /// "tensor 'layers.3.mlp.down_proj.weight' has wrong shape; expected [C, F] = [32, 64], got [64, 32]".
  /// With tie_embeddings an undefined lm_head is set to embed_tokens.
  LlamaModel(LlamaConfig config, LlamaWeights weights);

  /// Streamed model: `resident` holds embed_tokens, norm and lm_head (layers empty); each decoder
  /// block is loaded from `blocks` when block_forward needs it and released right after, so memory
  /// holds one block at a time. Checks the resident weights; each block is checked when loaded.
  LlamaModel(LlamaConfig config, LlamaWeights resident, BlockSource blocks);

  const LlamaConfig& config() const { return config_; }
  /// Mutable access for corrections and quantizers; call check_weights() after replacing tensors.
  /// Streamed models hold no blocks to mutate: throws abq::Error (see kStreamedRefusal).
  LlamaWeights& weights();
  /// For a streamed model: the resident tensors only (layers is empty).
  const LlamaWeights& weights() const { return weights_; }
  bool streamed() const { return static_cast<bool>(blocks_.load); }
  /// Block `layer` ready to run: the resident block, or for a streamed model the loaded block moved
  /// to the model's device and dtype, with the block transform applied and its shapes checked.
  DecoderBlock materialize_block(int64_t layer) const;
  /// Lets a streamed model's source give back block `layer`'s memory; a no-op when resident.
  void release_block(int64_t layer) const;
  /// Installed on a streamed model, runs on every block materialize_block loads (replacing any
  /// earlier one). Throws abq::Error for a resident model, whose blocks are rewritten in place.
  void set_block_transform(BlockTransform transform);
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
  /// Logits from block `layer`'s input on: blocks layer..L-1, the final norm and the lm_head.
  torch::Tensor forward_from_block(int64_t layer, const torch::Tensor& x) const;

  /// KV reuse (kv_cache.h): runs N prefixes tokens [N, P] once, right-padded to P, with `lengths`
  /// real tokens each (empty: all P), and keeps every layer's keys / values after their hooks.
  PrefillResult prefill(const torch::Tensor& tokens, const std::vector<int64_t>& lengths = {}) const;
  /// prefill without the lm_head: `hidden` receives the final hidden states [N, P, C].
  KvCache prefill_hidden(const torch::Tensor& tokens, const std::vector<int64_t>& lengths, torch::Tensor* hidden) const;
  /// Logits [B, Tc, V] of continuations tokens [B, Tc] that follow cached prefixes: row b follows
  /// cache row prefix_index[b] (empty: the cache's single prefix, broadcast), at positions
  /// length..length+Tc-1, causal among its own tokens. Right-padded rows are fine: a padded position
  /// is only seen by later (padded) positions. Equals forward() on prefix + continuation when every
  /// hook is token-local (kv_cache.h).
  torch::Tensor forward_with_prefix(const KvCache& cache, const torch::Tensor& tokens,
                                    const std::vector<int64_t>& prefix_index = {}) const;
  /// forward_with_prefix without the lm_head: final hidden states [B, Tc, C].
  torch::Tensor final_hidden_with_prefix(const KvCache& cache, const torch::Tensor& tokens,
                                         const std::vector<int64_t>& prefix_index = {}) const;

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
  void check_block(int64_t layer, const DecoderBlock& block) const;

  LlamaConfig config_;
  LlamaWeights weights_;
  BlockSource blocks_;        // streamed models only
  BlockTransform transform_;  // streamed models only
  RopeCache rope_cache_;
  std::vector<LayerHooks> hooks_;  // [num_layers]
};

/// Why a streamed model refuses mutable weight access; the message of that abq::Error.
extern const char* const kStreamedRefusal;

/// A seeded random model in `dtype` on the CPU, deterministic for a given (config, seed): linears and
/// embeddings ~ N(0, 0.02²), biases (attention_bias) ~ N(0, 0.02²), norm weights 1 + N(0, 0.1²)
/// so per-channel scales differ (non-trivial SmoothQuant).
LlamaModel make_random_model(const LlamaConfig& config, uint64_t seed,
                             torch::ScalarType dtype = torch::kFloat32);

}  // namespace abq::model

#include "framework/model/llama_model.h"

#include <ATen/CPUGeneratorImpl.h>

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"
#include "framework/model/rms_norm.h"

namespace abq::model {
namespace {

// One expected dimension: its symbol from the shape legend and its value.
struct Dim {
  const char* symbol;
  int64_t value;
};

std::string format_shape(const std::vector<Dim>& dims, bool symbols) {
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) out += ", ";
    out += symbols ? std::string(dims[i].symbol) : std::to_string(dims[i].value);
  }
  return out + "]";
}

std::string format_sizes(const torch::Tensor& t) {
  std::string out = "[";
  for (int64_t i = 0; i < t.dim(); ++i) {
    if (i) out += ", ";
    out += std::to_string(t.size(i));
  }
  return out + "]";
}

// Checks one weight; `reference` fixes the dtype and device every weight must share.
void check_tensor(const std::string& name, const torch::Tensor& t, const std::vector<Dim>& dims,
                  const torch::Tensor& reference) {
  if (!t.defined())
    throw Error(cat("tensor '", name, "' is missing; expected ", format_shape(dims, true), " = ",
                    format_shape(dims, false)));
  bool ok = t.dim() == static_cast<int64_t>(dims.size());
  for (size_t i = 0; ok && i < dims.size(); ++i) ok = t.size(static_cast<int64_t>(i)) == dims[i].value;
  if (!ok)
    throw Error(cat("tensor '", name, "' has wrong shape; expected ", format_shape(dims, true), " = ",
                    format_shape(dims, false), ", got ", format_sizes(t)));
  if (reference.defined() && (t.scalar_type() != reference.scalar_type() || t.device() != reference.device()))
    throw Error(cat("tensor '", name, "' has dtype ", t.scalar_type(), " on ", t.device(), "; expected ",
                    reference.scalar_type(), " on ", reference.device(), " like every other weight (",
                    kEmbedTokensName, ")"));
}

// A linear held only in packed form (quant.execution: packed) must still have the config's shape.
void check_packed(const std::string& name, const PackedLinear& packed, const Dim& out, const Dim& in) {
  if (packed.out_features() != out.value || packed.in_features() != in.value)
    throw Error(cat("packed weight '", name, "' has shape [", packed.out_features(), ", ", packed.in_features(),
                    "]; expected [", out.symbol, ", ", in.symbol, "] = [", out.value, ", ", in.value, "]"));
}

torch::Tensor randn(const std::vector<int64_t>& sizes, at::Generator& gen, double std, double mean,
                    torch::ScalarType dtype) {
  auto t = torch::randn(sizes, gen, torch::TensorOptions().dtype(torch::kFloat32));
  return (t * std + mean).to(dtype);
}

void move_tensor(torch::Tensor& t, const torch::Device& device, torch::ScalarType dtype) {
  if (t.defined()) t = t.to(device, dtype);
}

void move_block(DecoderBlock& b, const torch::Device& device, torch::ScalarType dtype) {
  for (torch::Tensor* t : tensor_slots(b)) move_tensor(*t, device, dtype);
}

}  // namespace

const char* const kStreamedRefusal =
    "this model is streamed (model.streamed: true): its decoder blocks are read from the checkpoint "
    "one at a time and never held, so nothing can rewrite them; streamed models support fp "
    "evaluation and calibration-free weight quantizers (rtn) only; set model.streamed: false for "
    "corrections and block-wise calibration";

LlamaConfig resolve_config(LlamaConfig c) {
  auto positive = [](const char* field, int64_t v) {
    if (v <= 0) throw Error(cat("model config: ", field, " must be > 0, got ", v));
  };
  positive("vocab_size", c.vocab_size);
  positive("hidden_size", c.hidden_size);
  positive("intermediate_size", c.intermediate_size);
  positive("num_hidden_layers", c.num_layers);
  positive("num_attention_heads", c.num_heads);
  if (c.num_kv_heads == 0) c.num_kv_heads = c.num_heads;
  positive("num_key_value_heads", c.num_kv_heads);
  if (c.num_heads % c.num_kv_heads != 0)
    throw Error(cat("model config: num_attention_heads (", c.num_heads,
                    ") must be a multiple of num_key_value_heads (", c.num_kv_heads, ")"));
  if (c.head_dim == 0) {
    if (c.hidden_size % c.num_heads != 0)
      throw Error(cat("model config: hidden_size (", c.hidden_size, ") is not divisible by num_attention_heads (",
                      c.num_heads, "); set head_dim explicitly"));
    c.head_dim = c.hidden_size / c.num_heads;
  }
  if (c.head_dim <= 0 || c.head_dim % 2 != 0)
    throw Error(cat("model config: head_dim must be a positive even number (RoPE rotates pairs), got ", c.head_dim));
  if (!(c.rms_eps > 0)) throw Error(cat("model config: rms_norm_eps must be > 0, got ", c.rms_eps));
  rope_inv_freq(c.head_dim, c.rope_theta, c.rope_scaling);  // validates the RoPE fields
  return c;
}

LlamaModel::LlamaModel(LlamaConfig config, LlamaWeights weights)
    : config_(resolve_config(std::move(config))), weights_(std::move(weights)) {
  rope_cache_ = RopeCache(rope_inv_freq(config_.head_dim, config_.rope_theta, config_.rope_scaling));
  if (config_.tie_embeddings && !weights_.lm_head.defined()) weights_.lm_head = weights_.embed_tokens;
  hooks_.resize(static_cast<size_t>(config_.num_layers));
  check_weights();
}

LlamaModel::LlamaModel(LlamaConfig config, LlamaWeights resident, BlockSource blocks)
    : config_(resolve_config(std::move(config))), weights_(std::move(resident)), blocks_(std::move(blocks)) {
  ABQ_ASSERT(blocks_.load && blocks_.release, "a streamed model needs both load and release");
  ABQ_ASSERT(weights_.layers.empty(), "a streamed model's resident weights hold no layers, got ",
             weights_.layers.size());
  rope_cache_ = RopeCache(rope_inv_freq(config_.head_dim, config_.rope_theta, config_.rope_scaling));
  if (config_.tie_embeddings && !weights_.lm_head.defined()) weights_.lm_head = weights_.embed_tokens;
  hooks_.resize(static_cast<size_t>(config_.num_layers));
  check_weights();
}

LlamaWeights& LlamaModel::weights() {
  if (streamed()) throw Error(kStreamedRefusal);
  return weights_;
}

DecoderBlock LlamaModel::materialize_block(int64_t layer) const {
  ABQ_ASSERT(layer >= 0 && layer < config_.num_layers, "layer ", layer, " out of range 0..",
             config_.num_layers - 1);
  if (!streamed()) return weights_.layers[static_cast<size_t>(layer)];
  DecoderBlock block = blocks_.load(layer);
  move_block(block, device(), dtype());
  if (transform_) transform_(layer, block);
  check_block(layer, block);
  return block;
}

void LlamaModel::release_block(int64_t layer) const {
  if (streamed()) blocks_.release(layer);
}

void LlamaModel::set_block_transform(BlockTransform transform) {
  if (!streamed())
    throw Error("set_block_transform: the model is resident; rewrite its blocks through weights() instead");
  transform_ = std::move(transform);
}

void LlamaModel::check_weights() const {
  const auto& c = config_;
  const Dim V{"V", c.vocab_size}, C{"C", c.hidden_size};
  const auto& ref = weights_.embed_tokens;
  check_tensor(kEmbedTokensName, ref, {V, C}, torch::Tensor());
  if (!streamed()) {
    if (static_cast<int64_t>(weights_.layers.size()) != c.num_layers)
      throw Error(cat("model has ", weights_.layers.size(), " decoder layers; expected num_hidden_layers = ",
                      c.num_layers));
    for (int64_t i = 0; i < c.num_layers; ++i) check_block(i, weights_.layers[static_cast<size_t>(i)]);
  }
  check_tensor(kFinalNormName, weights_.norm, {C}, ref);
  check_tensor(kLmHeadName, weights_.lm_head, {V, C}, ref);
  if (c.tie_embeddings && !weights_.lm_head.is_same(weights_.embed_tokens) &&
      weights_.lm_head.data_ptr() != weights_.embed_tokens.data_ptr())
    throw Error(cat("tensor '", kLmHeadName, "' must share storage with '", kEmbedTokensName,
                    "' when tie_word_embeddings is true; leave lm_head undefined to tie it"));
}

// One decoder block's weights against the config; the dtype and device must match embed_tokens.
void LlamaModel::check_block(int64_t i, const DecoderBlock& b) const {
  const auto& c = config_;
  const Dim C{"C", c.hidden_size}, F{"F", c.intermediate_size};
  const Dim HD{"H*D", c.num_heads * c.head_dim}, KD{"Hkv*D", c.num_kv_heads * c.head_dim};
  const auto& ref = weights_.embed_tokens;
  check_tensor(norm_weight_name(i, NormKind::input_layernorm), b.input_norm, {C}, ref);
  check_tensor(norm_weight_name(i, NormKind::post_attention_layernorm), b.post_attention_norm, {C}, ref);
  for (LinearKind kind : all_linear_kinds()) {
    Dim out = C, in = C;
    switch (kind) {
      case LinearKind::q_proj: out = HD; break;
      case LinearKind::k_proj:
      case LinearKind::v_proj: out = KD; break;
      case LinearKind::o_proj: in = HD; break;
      case LinearKind::gate_proj:
      case LinearKind::up_proj: out = F; break;
      case LinearKind::down_proj: in = F; break;
    }
    const auto& lin = b.linear(kind);
    if (lin.weight.defined() || !lin.packed)
      check_tensor(site_name(i, weight_site(kind)), lin.weight, {out, in}, ref);
    else
      check_packed(site_name(i, weight_site(kind)), *lin.packed, out, in);
    const bool qkv = kind == LinearKind::q_proj || kind == LinearKind::k_proj || kind == LinearKind::v_proj;
    if (lin.bias.defined() || (qkv && c.attention_bias))
      check_tensor(linear_bias_name(i, kind), lin.bias, {out}, ref);
  }
  const std::string prefix = cat("layers.", i, ".");
  if (b.attn_input_transform.defined()) check_tensor(prefix + "attn_input_transform", b.attn_input_transform, {C, C}, ref);
  if (b.mlp_input_transform.defined()) check_tensor(prefix + "mlp_input_transform", b.mlp_input_transform, {C, C}, ref);
  if (b.down_input_transform.defined()) check_tensor(prefix + "down_input_transform", b.down_input_transform, {F, F}, ref);
  if (b.attn_input_bias.defined()) check_tensor(prefix + "attn_input_bias", b.attn_input_bias, {C}, ref);
  if (b.mlp_input_bias.defined()) check_tensor(prefix + "mlp_input_bias", b.mlp_input_bias, {C}, ref);
}

AttentionDims LlamaModel::attention_dims() const {
  return AttentionDims{config_.num_heads, config_.num_kv_heads, config_.head_dim};
}

void LlamaModel::to(const torch::Device& device, torch::ScalarType dtype) {
  const bool tied = weights_.lm_head.is_same(weights_.embed_tokens) ||
                    weights_.lm_head.data_ptr() == weights_.embed_tokens.data_ptr();
  move_tensor(weights_.embed_tokens, device, dtype);
  for (auto& b : weights_.layers) move_block(b, device, dtype);
  move_tensor(weights_.norm, device, dtype);
  if (tied) {
    weights_.lm_head = weights_.embed_tokens;
  } else {
    move_tensor(weights_.lm_head, device, dtype);
  }
}

RopeTable LlamaModel::rope(int64_t num_tokens, const torch::Device& device, torch::ScalarType dtype) const {
  return rope_cache_.get(num_tokens, device, dtype);
}

torch::Tensor LlamaModel::embed(const torch::Tensor& tokens) const {
  if (tokens.dim() != 2)
    throw Error(cat("tokens must be [B, T], got ", tokens.dim(), " dimensions"));
  auto flat = tokens.to(device(), torch::kLong).reshape({-1});
  return weights_.embed_tokens.index_select(0, flat).view({tokens.size(0), tokens.size(1), config_.hidden_size});
}

torch::Tensor LlamaModel::block_forward(int64_t layer, const torch::Tensor& x) const {
  ABQ_ASSERT(layer >= 0 && layer < config_.num_layers, "layer ", layer, " out of range 0..",
             config_.num_layers - 1);
  ABQ_ASSERT(x.dim() == 3 && x.size(2) == config_.hidden_size, "block input must be [B, T, C]");
  const auto& hooks = hooks_[static_cast<size_t>(layer)];
  const auto table = rope(x.size(1), x.device(), x.scalar_type());
  if (!streamed())
    return decoder_block_forward(x, weights_.layers[static_cast<size_t>(layer)], attention_dims(), config_.rms_eps,
                                 table, hooks.empty() ? nullptr : &hooks);
  torch::Tensor out;
  {
    const DecoderBlock block = materialize_block(layer);  // freed at the end of this scope
    out = decoder_block_forward(x, block, attention_dims(), config_.rms_eps, table, hooks.empty() ? nullptr : &hooks);
  }
  release_block(layer);
  return out;
}

torch::Tensor LlamaModel::final_hidden(const torch::Tensor& tokens) const {
  auto x = embed(tokens);
  for (int64_t i = 0; i < config_.num_layers; ++i) x = block_forward(i, x);
  return rms_norm(x, weights_.norm, config_.rms_eps);
}

torch::Tensor LlamaModel::lm_head(const torch::Tensor& hidden) const {
  return torch::linear(hidden, weights_.lm_head);
}

torch::Tensor LlamaModel::forward(const torch::Tensor& tokens) const { return lm_head(final_hidden(tokens)); }

torch::Tensor LlamaModel::forward_from_block(int64_t layer, const torch::Tensor& x) const {
  ABQ_ASSERT(layer >= 0 && layer <= config_.num_layers, "forward_from_block: layer ", layer, " of ", config_.num_layers);
  torch::Tensor h = x;
  for (int64_t i = layer; i < config_.num_layers; ++i) h = block_forward(i, h);
  return lm_head(rms_norm(h, weights_.norm, config_.rms_eps));
}

void LlamaModel::set_activation_hook(const std::string& site, ActivationHook hook) {
  const SiteRef ref = require_site(site, config_);
  if (is_weight(ref.kind))
    throw Error(cat("site '", site, "' is a weight site; activation hooks attach to '.input' sites and to "
                    "self_attn.q / .k / .v, e.g. '", site_name(ref.layer, input_site(linear_of(ref.kind))), "'"));
  set_activation_hook(ref.layer, ref.kind, std::move(hook));
}

void LlamaModel::set_activation_hook(int64_t layer, SiteKind kind, ActivationHook hook) {
  ABQ_ASSERT(layer >= 0 && layer < config_.num_layers, "layer ", layer, " out of range");
  ABQ_ASSERT(is_activation(kind), "hook at weight site ", site_suffix(kind));
  hooks_[static_cast<size_t>(layer)].at[static_cast<size_t>(kind)] = std::move(hook);
}

void LlamaModel::clear_activation_hooks() {
  for (auto& layer : hooks_) layer = LayerHooks{};
}

void LlamaModel::set_activation_hooks(std::vector<LayerHooks> hooks) {
  ABQ_ASSERT(static_cast<int64_t>(hooks.size()) == config_.num_layers, "need one LayerHooks per layer, got ",
             hooks.size());
  hooks_ = std::move(hooks);
}

LlamaModel make_random_model(const LlamaConfig& config_in, uint64_t seed, torch::ScalarType dtype) {
  const LlamaConfig c = resolve_config(config_in);
  auto gen = at::detail::createCPUGenerator(seed);
  constexpr double kStd = 0.02;
  auto linear = [&](int64_t out, int64_t in, bool bias) {
    Linear l{randn({out, in}, gen, kStd, 0.0, dtype), torch::Tensor()};
    if (bias) l.bias = randn({out}, gen, kStd, 0.0, dtype);
    return l;
  };
  auto norm = [&] { return randn({c.hidden_size}, gen, 0.1, 1.0, dtype); };

  const int64_t C = c.hidden_size, F = c.intermediate_size;
  const int64_t HD = c.num_heads * c.head_dim, KD = c.num_kv_heads * c.head_dim;
  LlamaWeights w;
  w.embed_tokens = randn({c.vocab_size, C}, gen, kStd, 0.0, dtype);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    DecoderBlock b;
    b.input_norm = norm();
    b.post_attention_norm = norm();
    b.q_proj = linear(HD, C, c.attention_bias);
    b.k_proj = linear(KD, C, c.attention_bias);
    b.v_proj = linear(KD, C, c.attention_bias);
    b.o_proj = linear(C, HD, false);
    b.gate_proj = linear(F, C, false);
    b.up_proj = linear(F, C, false);
    b.down_proj = linear(C, F, false);
    w.layers.push_back(std::move(b));
  }
  w.norm = norm();
  if (!c.tie_embeddings) w.lm_head = randn({c.vocab_size, C}, gen, kStd, 0.0, dtype);
  return LlamaModel(c, std::move(w));
}

}  // namespace abq::model

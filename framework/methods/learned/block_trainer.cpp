#include "framework/methods/learned/block_trainer.h"

#include <cmath>

#include "framework/core/error.h"
#include "framework/core/torch_compat.h"

namespace abq::methods {
namespace {

using model::LinearKind;

size_t index_of(LinearKind kind) { return static_cast<size_t>(kind); }

model::DecoderBlock to_fp32(const model::DecoderBlock& b) {
  return model::map_tensors(b, [](const torch::Tensor& t) { return t.detach().to(torch::kFloat32); });
}

std::vector<torch::optim::OptimizerParamGroup> parameter_groups(const TransformParams& t,
                                                                const std::array<ClipFactors, 7>& clips,
                                                                const LearnedOptions& o, double lr_scale) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  auto add = [&](std::vector<torch::Tensor> params, double lr) {
    if (params.empty()) return;
    auto options = std::make_unique<torch::optim::AdamWOptions>(lr * lr_scale);
    options->weight_decay(o.weight_decay);
    groups.emplace_back(std::move(params), std::move(options));
  };
  add(t.let_parameters(), o.let_lr);
  add(t.compensation_parameters(), o.compensation_lr);
  std::vector<torch::Tensor> lwc;
  for (const auto& c : clips)
    if (c.up.defined()) lwc.insert(lwc.end(), {c.up, c.low});
  add(lwc, o.lwc_lr);
  return groups;
}

bool all_finite(const std::vector<torch::Tensor>& ts, bool grads) {
  for (const auto& t : ts) {
    const auto& v = grads ? t.grad() : t;
    if (v.defined() && !torch::isfinite(v).all().item<bool>()) return false;
  }
  return true;
}

}  // namespace

BlockTrainer::BlockTrainer(const model::DecoderBlock& fp_block, BlockSetup setup, const LearnedOptions& options,
                           double lr_scale)
    : fp_(to_fp32(fp_block)), setup_(std::move(setup)), options_(options), epochs_(std::max<int64_t>(options.epochs, 1)) {
  transform_ = init_transform(fp_, setup_.act_absmax, setup_.dims, options_, setup_.compensation);
  const auto device = fp_.q_proj.weight.device();
  auto move = [&](torch::Tensor& t) {
    if (t.defined() && t.device() != device) t = t.detach().to(device).set_requires_grad(true);
  };
  for (auto* t : transform_.slots()) move(*t);
  if (options_.lwc) {
    for (LinearKind kind : model::all_linear_kinds()) {
      const auto& spec = setup_.weight_specs[index_of(kind)];
      if (!spec.enabled()) continue;
      auto& c = clips_[index_of(kind)];
      c = init_clip_factors(fp_.linear(kind).weight, spec, options_.lwc_init);
      move(c.up);
      move(c.low);
    }
  }
  auto groups = parameter_groups(transform_, clips_, options_, lr_scale);
  for (const auto& g : groups) all_parameters_.insert(all_parameters_.end(), g.params().begin(), g.params().end());
  if (!groups.empty()) {
    torch::optim::AdamWOptions defaults(options_.lwc_lr * lr_scale);
    defaults.weight_decay(options_.weight_decay);
    optimizer_ = std::make_unique<torch::optim::AdamW>(std::move(groups), defaults);
  }
  begin_epoch(0);
}

void BlockTrainer::begin_epoch(int64_t epoch) {
  if (!options_.affine.any()) return;
  masks_ = affine_masks(setup_.dims, fp_.input_norm.size(0), std::min(epoch, epochs_ - 1), epochs_, options_.affine);
  const auto device = fp_.q_proj.weight.device();
  if (masks_.hidden.defined()) masks_.hidden = masks_.hidden.to(device);
  if (masks_.head.defined()) masks_.head = masks_.head.to(device);
}

model::DecoderBlock BlockTrainer::quantized_block(bool keep_transformed, std::array<torch::Tensor, 7>* transformed) {
  truncate_scales(transform_);
  auto block = transform_block(fp_, transform_, masks_, setup_.dims);
  for (LinearKind kind : model::all_linear_kinds()) {
    const size_t i = index_of(kind);
    auto& weight = block.linear(kind).weight;
    if (keep_transformed) (*transformed)[i] = weight.detach().clone();
    if (!setup_.weight_specs[i].enabled()) continue;
    weight = clipped_fake_quant(weight, setup_.weight_specs[i], clips_[i].up.defined() ? &clips_[i] : nullptr).fake;
  }
  return block;
}

BlockLoss BlockTrainer::forward_loss(const torch::Tensor& x_q, const torch::Tensor& y_fp, const torch::Tensor& y_fp2,
                                     const torch::Tensor& attn_fp) {
  AutocastGuard autocast(x_q.device(), options_.amp);
  auto block = quantized_block(false, nullptr);
  const bool want_attention = options_.loss.attention_kl;
  torch::Tensor probs;
  auto hooks = setup_.activation_hooks.empty() ? nullptr : &setup_.activation_hooks;
  auto y_q = model::decoder_block_forward(x_q.to(torch::kFloat32), block, setup_.dims, setup_.rms_eps, setup_.rope,
                                          hooks, want_attention ? &probs : nullptr).to(torch::kFloat32);
  torch::Tensor attn_q = want_attention ? probs.to(torch::kFloat32).mean(1) : torch::Tensor();  // head mean [B, T, T]
  return block_loss(y_q, y_fp.to(torch::kFloat32), y_fp2.defined() ? y_fp2.to(torch::kFloat32) : y_fp2, attn_q,
                    attn_fp.defined() ? attn_fp.to(torch::kFloat32) : attn_fp, options_.loss);
}

BlockLoss BlockTrainer::step(const torch::Tensor& x_q, const torch::Tensor& y_fp, const torch::Tensor& y_fp2,
                             const torch::Tensor& attn_fp) {
  auto loss = forward_loss(x_q, y_fp, y_fp2, attn_fp);
  ++steps_;
  if (!std::isfinite(loss.total.item<double>()) || !optimizer_) return loss;
  optimizer_->zero_grad();
  loss.total.backward();
  if (!all_finite(all_parameters_, /*grads=*/true)) {
    ++skipped_steps_;  // as the reference's loss scaler: no update on a non-finite gradient
    return loss;
  }
  optimizer_->step();
  return loss;
}

BlockLoss BlockTrainer::evaluate(const torch::Tensor& x_q, const torch::Tensor& y_fp, const torch::Tensor& y_fp2,
                                 const torch::Tensor& attn_fp) {
  torch::NoGradGuard no_grad;
  return forward_loss(x_q, y_fp, y_fp2, attn_fp);
}

BakedBlock BlockTrainer::bake() {
  torch::NoGradGuard no_grad;
  BakedBlock out;
  out.block = quantized_block(true, &out.transformed);
  return out;
}

bool BlockTrainer::parameters_finite() const { return all_finite(all_parameters_, /*grads=*/false); }

}  // namespace abq::methods

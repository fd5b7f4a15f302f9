#include "framework/methods/learned/learned_config.h"

namespace abq::methods {

using config::Schema;

namespace {

Schema flag(bool value, const char* doc) { return Schema::boolean().default_value(value).doc(doc); }
Schema rate(double value, const char* doc) { return Schema::number().range(0.0, 10.0).default_value(value).doc(doc); }

}  // namespace

Schema learned_schema() {
  const LearnedOptions d;
  return Schema::object({
      {"epochs", Schema::integer().range(0, 100000).default_value(d.epochs).doc("passes over the calibration windows per block (0: initialisation only)")},
      {"batch_size", Schema::integer().range(1, 4096).default_value(d.batch_size).doc("windows per optimizer step")},
      {"weight_decay", rate(d.weight_decay, "AdamW weight decay")},
      {"amp", flag(d.amp, "forward under autocast (fp16 on CUDA, bf16 on the CPU); parameters stay fp32")},
      {"lwc", Schema::object({
           {"enabled", flag(d.lwc, "learnable weight clipping (OmniQuant)")},
           {"init", Schema::number().range(-20.0, 20.0).default_value(d.lwc_init).doc("initial logit of both clip factors; sigmoid(4) = 0.982")},
           {"lr", rate(d.lwc_lr, "learning rate of the clip factors")}})},
      {"let", Schema::object({
           {"enabled", flag(d.let, "learnable equivalent transformation (OmniQuant LET)")},
           {"lr", rate(d.let_lr, "learning rate of the scales and affine matrices")},
           {"alpha", Schema::number().range(0.0, 1.0).default_value(d.alpha).doc("init s = max|x|^alpha / max|W|^(1-alpha)")},
           {"pairs", Schema::object({
                {"qkv", flag(d.pairs.qkv, "input_layernorm -> q, k, v")},
                {"out", flag(d.pairs.out, "v_proj -> o_proj")},
                {"fc1", flag(d.pairs.fc1, "post_attention_layernorm -> gate, up")},
                {"fc2", flag(d.pairs.fc2, "up_proj -> down_proj (ABQ-LLM)")},
                {"qkt", flag(d.pairs.qkt, "q_proj / k_proj rows (before RoPE)")}})},
           {"shifts", flag(d.shifts, "AffineQuant: trainable per-channel shifts (init 0) on the qkv, fc1 and out pairs; "
                                     "adds norm input biases and linear biases (OmniQuant and ABQ-LLM: off on LLaMA)")}})},
      {"compensation", Schema::object({
           {"enabled", flag(d.compensation, "rank-1 compensation a*b on down_proj (ABQ-LLM)")},
           {"first_blocks", Schema::integer().range(0, 100000).default_value(d.compensation_first).doc("blocks 0..n-1 get it")},
           {"last_blocks", Schema::integer().range(0, 100000).default_value(d.compensation_last).doc("the last n blocks get it")},
           {"lr", rate(d.compensation_lr, "learning rate of a and b")}})},
      {"affine", Schema::object({
           {"ln_matrix", flag(d.affine.ln_matrix, "AffineQuant: full CxC matrices for the norm pairs (inverse applied online)")},
           {"out_matrix", flag(d.affine.out_matrix, "AffineQuant: per-head matrix for v -> o")},
           {"qk_matrix", flag(d.affine.qk_matrix, "AffineQuant: per-head matrix for q / k")},
           {"stability_factor", Schema::number().range(0.0, 1.0).default_value(d.affine.stability_factor).doc("off-diagonal mask value sf")},
           {"gradual_mask", flag(d.affine.gradual_mask, "widen the band of the mask over the epochs")}})},
      {"loss", Schema::object({
           {"mse", flag(d.loss.mse, "MSE to the fp chain's block output")},
           {"aug_mse", flag(d.loss.aug_mse, "MSE to the fp block on the quantized input (OmniQuant aug loss)")},
           {"dlc", flag(d.loss.dlc, "-log|cos| to both targets (ABQ-LLM)")},
           {"attention_kl", flag(d.loss.attention_kl, "KL between head-mean attention maps, both directions (ABQ-LLM)")},
           {"double_softmax", flag(d.loss.double_softmax, "re-softmax the attention probabilities as the reference does")}})},
      {"restarts", Schema::object({
           {"max", Schema::integer().range(0, 100).default_value(d.max_restarts).doc("restarts of a block after a non-finite loss, then RTN")},
           {"lr_factor", Schema::number().range(0.0, 1.0).default_value(d.restart_lr_factor).doc("learning rates x this per restart")}})},
  });
}

LearnedOptions learned_options_from_yaml(const YAML::Node& o) {
  LearnedOptions l;
  l.epochs = o["epochs"].as<int64_t>();
  l.batch_size = o["batch_size"].as<int64_t>();
  l.weight_decay = o["weight_decay"].as<double>();
  l.amp = o["amp"].as<bool>();
  const auto lwc = o["lwc"];
  l.lwc = lwc["enabled"].as<bool>();
  l.lwc_init = lwc["init"].as<double>();
  l.lwc_lr = lwc["lr"].as<double>();
  const auto let = o["let"];
  l.let = let["enabled"].as<bool>();
  l.let_lr = let["lr"].as<double>();
  l.alpha = let["alpha"].as<double>();
  const auto pairs = let["pairs"];
  l.pairs = {pairs["qkv"].as<bool>(), pairs["out"].as<bool>(), pairs["fc1"].as<bool>(), pairs["fc2"].as<bool>(),
             pairs["qkt"].as<bool>()};
  l.shifts = let["shifts"].as<bool>();
  const auto comp = o["compensation"];
  l.compensation = comp["enabled"].as<bool>();
  l.compensation_first = comp["first_blocks"].as<int64_t>();
  l.compensation_last = comp["last_blocks"].as<int64_t>();
  l.compensation_lr = comp["lr"].as<double>();
  const auto affine = o["affine"];
  l.affine = {affine["ln_matrix"].as<bool>(), affine["out_matrix"].as<bool>(), affine["qk_matrix"].as<bool>(),
              affine["stability_factor"].as<double>(), affine["gradual_mask"].as<bool>()};
  const auto loss = o["loss"];
  l.loss = {loss["mse"].as<bool>(), loss["aug_mse"].as<bool>(), loss["dlc"].as<bool>(), loss["attention_kl"].as<bool>(),
            loss["double_softmax"].as<bool>()};
  l.max_restarts = o["restarts"]["max"].as<int64_t>();
  l.restart_lr_factor = o["restarts"]["lr_factor"].as<double>();
  return l;
}

}  // namespace abq::methods

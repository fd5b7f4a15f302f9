#include "framework/methods/learned/learned_options.h"

namespace abq::methods {
namespace {

using config::RuleProblem;
using config::Schema;
using L = LearnedOptions;

Schema rate(const char* doc) { return Schema::number().range(0.0, 10.0).doc(doc); }

// Nested members are reached through accessors; each returns the member the key fills.
template <typename M, typename Access>
void nested(config::OptionSet<L>& set, const char* key, Access access, Schema schema) {
  set.field<M>(key, access, std::move(schema));
}

config::OptionSet<L> declare() {
  config::OptionSet<L> s;
  s.field("epochs", &L::epochs, Schema::integer().range(0, 100000).doc("passes over the calibration windows per block (0: initialisation only)"))
      .field("batch_size", &L::batch_size, Schema::integer().range(1, 4096).doc("windows per optimizer step"))
      .field("weight_decay", &L::weight_decay, rate("AdamW weight decay"))
      .field("amp", &L::amp, Schema::boolean().doc("forward under autocast (fp16 on CUDA, bf16 on the CPU); parameters stay fp32"))
      .field("lwc.enabled", &L::lwc, Schema::boolean().doc("learnable weight clipping (OmniQuant)"))
      .field("lwc.init", &L::lwc_init, Schema::number().range(-20.0, 20.0).doc("initial logit of both clip factors; sigmoid(4) = 0.982"))
      .field("lwc.lr", &L::lwc_lr, rate("learning rate of the clip factors"))
      .field("let.enabled", &L::let, Schema::boolean().doc("learnable equivalent transformation (OmniQuant LET)"))
      .field("let.lr", &L::let_lr, rate("learning rate of the scales and affine matrices"))
      .field("let.alpha", &L::alpha, Schema::number().range(0.0, 1.0).doc("init s = max|x|^alpha / max|W|^(1-alpha)"));
  nested<bool>(s, "let.pairs.qkv", [](L& o) -> bool& { return o.pairs.qkv; }, Schema::boolean().doc("input_layernorm -> q, k, v"));
  nested<bool>(s, "let.pairs.out", [](L& o) -> bool& { return o.pairs.out; }, Schema::boolean().doc("v_proj -> o_proj"));
  nested<bool>(s, "let.pairs.fc1", [](L& o) -> bool& { return o.pairs.fc1; }, Schema::boolean().doc("post_attention_layernorm -> gate, up"));
  nested<bool>(s, "let.pairs.fc2", [](L& o) -> bool& { return o.pairs.fc2; }, Schema::boolean().doc("up_proj -> down_proj (ABQ-LLM)"));
  nested<bool>(s, "let.pairs.qkt", [](L& o) -> bool& { return o.pairs.qkt; }, Schema::boolean().doc("q_proj / k_proj rows (before RoPE)"));
  s.field("let.shifts", &L::shifts, Schema::boolean().doc("AffineQuant: trainable per-channel shifts (init 0) on the qkv, fc1 and out pairs; "
                                                          "adds norm input biases and linear biases (OmniQuant and ABQ-LLM: off on LLaMA)"))
      .field("compensation.enabled", &L::compensation, Schema::boolean().doc("rank-1 compensation a*b on down_proj (ABQ-LLM)"))
      .field("compensation.first_blocks", &L::compensation_first, Schema::integer().range(0, 100000).doc("blocks 0..n-1 get it"))
      .field("compensation.last_blocks", &L::compensation_last, Schema::integer().range(0, 100000).doc("the last n blocks get it"))
      .field("compensation.lr", &L::compensation_lr, rate("learning rate of a and b"));
  nested<bool>(s, "affine.ln_matrix", [](L& o) -> bool& { return o.affine.ln_matrix; },
               Schema::boolean().doc("AffineQuant: full CxC matrices for the norm pairs (inverse applied online)"));
  nested<bool>(s, "affine.out_matrix", [](L& o) -> bool& { return o.affine.out_matrix; },
               Schema::boolean().doc("AffineQuant: per-head matrix for v -> o"));
  nested<bool>(s, "affine.qk_matrix", [](L& o) -> bool& { return o.affine.qk_matrix; },
               Schema::boolean().doc("AffineQuant: per-head matrix for q / k"));
  nested<double>(s, "affine.stability_factor", [](L& o) -> double& { return o.affine.stability_factor; },
                 Schema::number().range(0.0, 1.0).doc("off-diagonal mask value sf"));
  nested<bool>(s, "affine.gradual_mask", [](L& o) -> bool& { return o.affine.gradual_mask; },
               Schema::boolean().doc("widen the band of the mask over the epochs"));
  nested<bool>(s, "loss.mse", [](L& o) -> bool& { return o.loss.mse; }, Schema::boolean().doc("MSE to the fp chain's block output"));
  nested<bool>(s, "loss.aug_mse", [](L& o) -> bool& { return o.loss.aug_mse; },
               Schema::boolean().doc("MSE to the fp block on the quantized input (OmniQuant aug loss)"));
  nested<bool>(s, "loss.dlc", [](L& o) -> bool& { return o.loss.dlc; }, Schema::boolean().doc("-log|cos| to both targets (ABQ-LLM)"));
  nested<bool>(s, "loss.attention_kl", [](L& o) -> bool& { return o.loss.attention_kl; },
               Schema::boolean().doc("KL between head-mean attention maps, both directions (ABQ-LLM)"));
  nested<bool>(s, "loss.double_softmax", [](L& o) -> bool& { return o.loss.double_softmax; },
               Schema::boolean().doc("re-softmax the attention probabilities as the reference does"));
  s.field("restarts.max", &L::max_restarts, Schema::integer().range(0, 100).doc("restarts of a block after a non-finite loss, then RTN"))
      .field("restarts.lr_factor", &L::restart_lr_factor, Schema::number().range(0.0, 1.0).doc("learning rates x this per restart"));
  s.rule("training (epochs > 0) needs at least one loss term", [](const L& o, std::vector<RuleProblem>& problems) {
    if (o.epochs > 0 && !(o.loss.mse || o.loss.aug_mse || o.loss.dlc || o.loss.attention_kl))
      problems.push_back({{"loss"}, "every loss term is off, so training has nothing to minimise",
                          "turn on loss.mse (or aug_mse, dlc, attention_kl), or set epochs: 0"});
  });
  return s;
}

}  // namespace

const config::OptionSet<LearnedOptions>& learned_options() {
  static const config::OptionSet<LearnedOptions> set = declare();
  return set;
}

}  // namespace abq::methods

#include "framework/methods/learned/block_loss.h"

#include <sstream>

#include "framework/core/error.h"

namespace abq::methods {
namespace {

void require(const torch::Tensor& t, const torch::Tensor& like, const char* what) {
  if (!t.defined()) throw Error(cat("block loss: the ", what, " term needs a tensor that was not computed"));
  if (t.sizes() != like.sizes()) {
    std::ostringstream msg;
    msg << "block loss: " << what << " shapes differ: " << t.sizes() << " vs " << like.sizes();
    throw Error(msg.str());
  }
}

// PyTorch KLDivLoss(reduction="mean")(input, target): mean of target·(log target - input).
torch::Tensor kl_div_mean(const torch::Tensor& input_log, const torch::Tensor& target) {
  return (torch::xlogy(target, target) - target * input_log).mean();
}

// KL(p ‖ q) per element, mean over elements, on probabilities that may hold exact zeros (masked).
torch::Tensor kl_probabilities(const torch::Tensor& p, const torch::Tensor& q) {
  return (torch::xlogy(p, p) - p * q.clamp_min(1e-30).log()).mean();
}

torch::Tensor neg_log_cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return -torch::cosine_similarity(a, b, /*dim=*/2, /*eps=*/1e-8).mean().abs().log();
}

}  // namespace

BlockLoss block_loss(const torch::Tensor& y_q, const torch::Tensor& y_fp, const torch::Tensor& y_fp2,
                     const torch::Tensor& attn_q, const torch::Tensor& attn_fp, const LossOptions& o) {
  if (!(o.mse || o.aug_mse || o.dlc || o.attention_kl))
    throw Error("block loss: every term is switched off (mse, aug_mse, dlc, attention_kl); enable at least one");
  require(y_fp, y_q, "mse");
  BlockLoss out;
  std::vector<torch::Tensor> terms;
  if (o.attention_kl) {
    require(attn_fp, attn_q, "attention_kl");
    torch::Tensor kl;
    if (o.double_softmax) {
      kl = kl_div_mean(torch::log_softmax(attn_fp, -1), torch::softmax(attn_q, -1)).abs() +
           kl_div_mean(torch::log_softmax(attn_q, -1), torch::softmax(attn_fp, -1)).abs();
    } else {
      kl = kl_probabilities(attn_q, attn_fp) + kl_probabilities(attn_fp, attn_q);
    }
    out.attention_kl = kl.item<double>();
    terms.push_back(kl);
  }
  if (o.mse) {
    auto t = torch::mse_loss(y_q, y_fp);
    out.mse = t.item<double>();
    terms.push_back(t);
  }
  if (o.aug_mse) {
    require(y_fp2, y_q, "aug_mse");
    auto t = torch::mse_loss(y_q, y_fp2);
    out.aug_mse = t.item<double>();
    terms.push_back(t);
  }
  if (o.dlc) {
    require(y_fp2, y_q, "dlc");
    auto t = neg_log_cosine(y_q, y_fp) + neg_log_cosine(y_q, y_fp2);
    out.dlc = t.item<double>();
    terms.push_back(t);
  }
  out.total = terms.front();
  for (size_t i = 1; i < terms.size(); ++i) out.total = out.total + terms[i];
  return out;
}

}  // namespace abq::methods

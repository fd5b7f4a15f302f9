// lm-evaluation-harness `loglikelihood` requests, natively (lm-eval 0.4 models/huggingface.py):
// a (context, continuation) string pair is encoded as _encode_pair does (trailing spaces of the
// context move to the continuation; whole = enc(context + continuation), continuation tokens =
// whole[len(enc(context)):]; an empty context becomes [BOS or EOS]), the input is
// (context + continuation)[-(max_length + 1):][:-1], and the score is the summed log-probability
// of the continuation tokens plus whether each is the greedy (argmax) token.
// Batching: requests are sorted by descending token length (lm-eval's order), grouped into
// batches and right-padded; causal attention keeps padding from touching earlier positions.
// score_requests runs every request's whole input (the context once per choice); requests that
// share their context can instead run it once with shared_context.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace abq::model { class LlamaModel; }
namespace abq::tokenize { class Tokenizer; }

namespace abq::evaluators {

struct TokenRequest {
  std::vector<int64_t> context;
  std::vector<int64_t> continuation;  // non-empty
};

struct LoglikelihoodResult {
  double logprob = 0;   // sum over continuation tokens, nats, fp32 log-softmax accumulated in fp64
  bool greedy = false;  // every continuation token is the argmax
  int64_t tokens = 0;   // continuation token count
};

/// lm-eval's _encode_pair (and the empty-context rule); `add_bos` is lm-eval's add_bos_token
/// (false by default for LLaMA models there).
TokenRequest encode_request(const tokenize::Tokenizer& tokenizer, const std::string& context,
                            const std::string& continuation, bool add_bos);

/// Scores every request; results in request order.
std::vector<LoglikelihoodResult> score_requests(const model::LlamaModel& model, const std::vector<TokenRequest>& requests,
                                                int64_t batch_size, int64_t max_length);

/// The scores of continuations from the final hidden states that predict their tokens: hiddens[i]
/// [m_i, C] (row j predicts continuations[i][j]) -> summed exact log-probabilities (token_logprobs.h),
/// greedy. One lm_head product for all of them: with a few rows per continuation, separate products
/// would each re-pack the whole [V, C] head.
std::vector<LoglikelihoodResult> score_continuations(const model::LlamaModel& model,
                                                     const std::vector<torch::Tensor>& hiddens,
                                                     const std::vector<const std::vector<int64_t>*>& continuations);

}  // namespace abq::evaluators

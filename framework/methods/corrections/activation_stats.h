// Per-input-channel activation statistics of every linear, collected with observer hooks on the
// floating-point model. Shared by corrections that scale input channels (SmoothQuant, AWQ, LET init).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/model/llama_model.h"

namespace abq::methods {

/// Runs the model (no activation hooks, no grad) on each calibration batch [B, T] and returns, for
/// every `layers.{i}.{linear}.input` site, the running max over all tokens of |x_j| per input
/// channel j: a float32 tensor [in] on the model's device. The model's own hooks are restored
/// afterwards, also when an exception leaves early. Matches SmoothQuant's get_act_scales and
/// ABQ-LLM's generate_act_scale_shift.py (act_scales). Throws abq::Error on an empty set.
std::map<std::string, torch::Tensor> collect_input_absmax(model::LlamaModel& model,
                                                          const std::vector<torch::Tensor>& calibration_tokens);

}  // namespace abq::methods

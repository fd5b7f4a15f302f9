// Per-input-channel activation statistics of every linear, collected with observer hooks on the
// floating-point model. Shared by corrections that scale input channels (SmoothQuant, AWQ, LET init).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "framework/methods/correction.h"
#include "framework/model/llama_model.h"

namespace abq::methods {

/// Runs the model (no activation hooks, no grad) on each calibration batch [B, T] and returns, for
/// every `layers.{i}.{linear}.input` site, the running max over all tokens of |x_j| per input
/// channel j: a float32 tensor [in] on the model's device. The model's own hooks are restored
/// afterwards, also when an exception leaves early. Matches SmoothQuant's get_act_scales and
/// ABQ-LLM's generate_act_scale_shift.py (act_scales). Throws abq::Error on an empty set.
std::map<std::string, torch::Tensor> collect_input_absmax(model::LlamaModel& model,
                                                          const std::vector<torch::Tensor>& calibration_tokens);

/// collect_input_absmax through the stage cache: the entry `activation_stats`-stage_key(format
/// version, cache->key) when `cache` is given and enabled, computed and stored on a miss. The
/// statistics depend on the model state and the windows only (cache->key), not on the correction's
/// options nor the weight plan. Records uses["activation_stats"]: hit | miss | off, and the seconds
/// spent reading or computing.
std::map<std::string, torch::Tensor> cached_input_absmax(model::LlamaModel& model,
                                                         const std::vector<torch::Tensor>& calibration_tokens,
                                                         CorrectionCache* cache);

/// Abs-max statistics <-> bytes: a versioned header, then per site its name and float32 values.
std::string encode_absmax(const std::map<std::string, torch::Tensor>& absmax);
/// nullopt when `bytes` is not such an encoding. Tensors come back on the CPU.
std::optional<std::map<std::string, torch::Tensor>> decode_absmax(const std::string& bytes);

}  // namespace abq::methods

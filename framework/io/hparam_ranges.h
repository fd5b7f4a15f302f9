// Range checks on the hyper-parameters a checkpoint's metadata gives (GGUF keys, config.json), so
// a value no model can have fails at load naming the key, instead of running: rms_eps = inf makes
// every RMSNorm output 0, freq_base 1e-30 turns RoPE into noise, both without an error.
#pragma once

#include <string>

#include "framework/model/llama_config.h"

namespace abq::io {

/// The metadata key each value came from, as the file spells it.
struct HparamKeys {
  std::string rms_eps, rope_theta, max_position;
};

/// Throws abq::Error naming `file`, the key and the allowed range unless rms_eps is finite in
/// (0, 1), rope_theta finite in (1, 1e12], max_position > 0, and head_dim even (RoPE rotates pairs).
void check_hparam_ranges(const model::LlamaConfig& c, const HparamKeys& keys, const std::string& file);

}  // namespace abq::io

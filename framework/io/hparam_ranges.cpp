#include "framework/io/hparam_ranges.h"

#include <cmath>

#include "framework/core/error.h"

namespace abq::io {

void check_hparam_ranges(const model::LlamaConfig& c, const HparamKeys& keys, const std::string& file) {
  // eps is added to mean(x^2) before the rsqrt: published models use 1e-6 .. 1e-5.
  if (!std::isfinite(c.rms_eps) || c.rms_eps <= 0 || c.rms_eps >= 1)
    throw Error(cat(file, ": '", keys.rms_eps, "' is ", c.rms_eps, "; expected a finite value in (0, 1), e.g. 1e-5"));
  // θ^(-2i/D) must fall with i; published bases run from 1e4 to 1e8.
  if (!std::isfinite(c.rope_theta) || c.rope_theta <= 1 || c.rope_theta > 1e12)
    throw Error(cat(file, ": '", keys.rope_theta, "' is ", c.rope_theta,
                    "; expected a finite value in (1, 1e12], e.g. 10000"));
  if (c.max_position <= 0)
    throw Error(cat(file, ": '", keys.max_position, "' is ", c.max_position, "; expected a positive context length"));
  if (c.head_dim <= 0 || c.head_dim % 2 != 0)
    throw Error(cat(file, ": head dimension ", c.head_dim, " must be positive and even (RoPE rotates pairs)"));
}

}  // namespace abq::io

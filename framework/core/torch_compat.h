// The one place where LibTorch version differences are isolated (Debian's 1.13 CPU build and
// PyTorch 2.x CUDA builds compile the same sources).
#pragma once

#include <string>

#include <torch/torch.h>
#include <torch/version.h>

namespace abq {

inline std::string torch_version() { return TORCH_VERSION; }

inline bool torch_cuda_available() { return torch::cuda::is_available(); }

/// Parses "cpu", "cuda", "cuda:1"; the caller validated the spelling.
inline torch::Device parse_device(const std::string& name) { return torch::Device(name); }

/// Name of a dtype as the configs spell it.
inline torch::ScalarType parse_dtype(const std::string& name) {
  if (name == "float16") return torch::kFloat16;
  if (name == "bfloat16") return torch::kBFloat16;
  if (name == "float64") return torch::kFloat64;
  return torch::kFloat32;
}

}  // namespace abq

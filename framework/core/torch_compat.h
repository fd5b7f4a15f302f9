// The one place where LibTorch version differences are isolated (Debian's 1.13 CPU build and
// PyTorch 2.x CUDA builds compile the same sources).
#pragma once

#include <string>

#include <ATen/autocast_mode.h>
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

/// Autocast (fp16 on CUDA, bf16 on the CPU) for the lifetime of the guard when `enabled`.
class AutocastGuard {
 public:
  AutocastGuard(const torch::Device& device, bool enabled) : cuda_(device.is_cuda()), enabled_(enabled) {
    if (enabled_) set(true);
  }
  ~AutocastGuard() {
    if (!enabled_) return;
    set(false);
    at::autocast::clear_cache();
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  void set(bool on) const {
#if TORCH_VERSION_MAJOR >= 2
    at::autocast::set_autocast_enabled(cuda_ ? at::kCUDA : at::kCPU, on);
#else
    if (cuda_) at::autocast::set_enabled(on); else at::autocast::set_cpu_enabled(on);
#endif
  }
  bool cuda_;
  bool enabled_;
};

}  // namespace abq

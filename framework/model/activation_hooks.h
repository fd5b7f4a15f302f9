// Activation hooks: functions applied to an activation site's tensor during forward. Used for
// fake-quantizing activations (return the quantized tensor) and for observers that collect
// statistics (return x unchanged). Stored per layer in an array indexed by SiteKind, so forward
// never looks up strings.
#pragma once

#include <array>
#include <functional>

#include <torch/torch.h>

#include "framework/model/site_names.h"

namespace abq::model {

/// Receives the site's tensor, returns the tensor the forward continues with (same shape).
using ActivationHook = std::function<torch::Tensor(const torch::Tensor&)>;

/// The hooks of one decoder layer; empty entries are skipped.
struct LayerHooks {
  std::array<ActivationHook, kNumSiteKinds> at;

  /// x itself when no hook is set at `kind`, else the hook's result.
  torch::Tensor apply(SiteKind kind, const torch::Tensor& x) const {
    const auto& hook = at[static_cast<size_t>(kind)];
    return hook ? hook(x) : x;
  }
  bool empty() const {
    for (const auto& h : at)
      if (h) return false;
    return true;
  }
};

}  // namespace abq::model

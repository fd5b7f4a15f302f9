// The sensitivity service allocations measure with (methods/allocation.h): input Hessians,
// block-output error and output KL of quantizing one site, all on the calibration windows and the
// fp chain (every block fp, activation hooks off).
//
// The fp chain's block inputs are kept for one block at a time and advanced block by block, so
// asking about sites in layer order costs one pass over the model; going back to an earlier layer
// restarts from the embeddings. Hessians and measured errors are cached by sites (and specs); the
// fp logits the KL compares with are computed once per window count; the Fisher diagonal of every
// weight comes from one backward pass per window, the first time any weight's is asked for.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "framework/methods/allocation.h"
#include "framework/model/llama_model.h"

namespace abq::calib {

class CalibrationSensitivity final : public methods::SensitivityService {
 public:
  /// Borrows both: they must outlive the service. `model` is changed only for the duration of a
  /// measurement (one weight or one hook) and restored before the call returns.
  CalibrationSensitivity(model::LlamaModel& model, const std::vector<torch::Tensor>& calibration);

  using methods::SensitivityService::block_output_mse;
  using methods::SensitivityService::output_kl;
  torch::Tensor input_hessian(const std::string& weight_site) override;
  torch::Tensor weight_fisher(const std::string& weight_site, size_t windows = 0) override;
  double block_output_mse(const methods::SiteSpecs& sites, size_t windows = 0) override;
  double output_kl(const methods::SiteSpecs& sites, size_t windows = 0) override;

 private:
  const std::vector<torch::Tensor>& block_inputs(int64_t layer);
  const std::vector<torch::Tensor>& block_outputs(int64_t layer);
  size_t window_count(size_t windows) const;
  /// Runs `measure` with only `sites` quantized (weights replaced, hooks installed at activation
  /// sites after a range pass for static specs), then restores the model, also on a throw.
  template <typename Measure>
  auto with_sites_quantized(const methods::SiteSpecs& sites, size_t windows, Measure measure);

  model::LlamaModel& model_;
  const std::vector<torch::Tensor>& calibration_;
  int64_t inputs_layer_ = -1;             // layer whose fp inputs `inputs_` holds
  std::vector<torch::Tensor> inputs_;
  int64_t outputs_layer_ = -1;            // layer whose fp outputs `outputs_` holds
  std::vector<torch::Tensor> outputs_;
  std::map<std::pair<int64_t, int>, torch::Tensor> hessians_;  // (layer, input site kind)
  std::map<std::string, double> mse_;     // site + " " + describe(spec)
  std::map<std::string, double> kl_;
  size_t fp_logits_windows_ = 0;          // windows `fp_logits_` holds (0: none yet)
  std::vector<torch::Tensor> fp_logits_;  // fp next-token log-probabilities per window, float32
  size_t fisher_windows_ = 0;
  std::map<std::string, torch::Tensor> fisher_;  // weight site -> mean (dL/dW)^2
};

}  // namespace abq::calib

// The sensitivity service allocations measure with (methods/allocation.h): input Hessians,
// block-output error and output KL of quantizing one site, all on the calibration windows and the
// fp chain (every block fp, activation hooks off).
//
// The fp chain's block inputs are kept for one block at a time and advanced block by block, so
// asking about sites in layer order costs one pass over the model; going back to an earlier layer
// restarts from the embeddings. Hessians and measured errors are cached by site (and spec).
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

  torch::Tensor input_hessian(const std::string& weight_site) override;
  double block_output_mse(const std::string& site, const quant::QuantSpec& spec) override;
  double output_kl(const std::string& site, const quant::QuantSpec& spec) override;

 private:
  const std::vector<torch::Tensor>& block_inputs(int64_t layer);
  const std::vector<torch::Tensor>& block_outputs(int64_t layer);
  /// Runs `measure` with only `site` quantized by `spec` (the weight replaced, or a hook installed
  /// at the activation site after a range pass for static specs), then restores the model.
  template <typename Measure>
  auto with_site_quantized(const model::SiteRef& site, const quant::QuantSpec& spec, Measure measure);

  model::LlamaModel& model_;
  const std::vector<torch::Tensor>& calibration_;
  int64_t inputs_layer_ = -1;             // layer whose fp inputs `inputs_` holds
  std::vector<torch::Tensor> inputs_;
  int64_t outputs_layer_ = -1;            // layer whose fp outputs `outputs_` holds
  std::vector<torch::Tensor> outputs_;
  std::map<std::pair<int64_t, int>, torch::Tensor> hessians_;  // (layer, input site kind)
  std::map<std::string, double> mse_;     // site + " " + describe(spec)
  std::map<std::string, double> kl_;
};

}  // namespace abq::calib

#include "experiments/runner/calibration_windows.h"

#include "framework/pipeline/calibration_data.h"

namespace abq::runner {

std::vector<torch::Tensor> calibration_windows(const pipeline::ExperimentSpec& spec, const tokenize::Tokenizer& tokenizer,
                                               const torch::Device& device) {
  const auto& c = spec.calibration;
  if (c.data.empty()) return {};
  std::vector<torch::Tensor> windows;
  for (const auto& w :
       pipeline::draw_calibration_windows(c.source, spec.resolve_path(c.data), tokenizer, c.samples, c.seqlen, c.seed))
    windows.push_back(torch::tensor(w, torch::kInt64).unsqueeze(0).to(device));  // (1, T)
  return windows;
}

}  // namespace abq::runner

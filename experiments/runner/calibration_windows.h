// The calibration windows of a run as token tensors [1, T] on the model's device (empty when the
// experiment has no calibration.data): what `abq run` quantizes with and `abq allocate` measures on.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "framework/pipeline/experiment_spec.h"
#include "framework/tokenize/tokenizer.h"

namespace abq::runner {

std::vector<torch::Tensor> calibration_windows(const pipeline::ExperimentSpec& spec, const tokenize::Tokenizer& tokenizer,
                                               const torch::Device& device);

}  // namespace abq::runner

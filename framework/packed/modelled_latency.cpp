#include "framework/packed/modelled_latency.h"

#include "framework/packed/kernel_format.h"

namespace abq::packed {

double modelled_linear_time_us(const quant::QuantSpec& weights, const quant::QuantSpec& inputs, int64_t out_features,
                               int64_t in_features, int64_t tokens) {
  if (!weights.enabled() || !weight_packing_problem(weights, out_features, in_features).empty()) return -1;
  const abq_weight_format w = weight_format(weights);
  const abq_act_format x = activation_fusion_problem(inputs).empty() ? activation_format(inputs)
                                                                     : activation_format(quant::QuantSpec{});
  const int k = int(padded_k(in_features));
  const abq_path path = abq_choose_path(int(tokens), int(out_features), k, w, x, 90, ABQ_PATH_AUTO);
  if (path == ABQ_PATH_AUTO) return -1;
  return abq_model_time_us(path, int(tokens), int(out_features), k, w, x);
}

}  // namespace abq::packed

// CPU path model and abq_cpu_choose_path (see cpu_path_model.h).
#include "kernels/cpu/cpu_path_model.h"

#include <string>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/cpu_tuning.h"
#include "kernels/launch/format_check.h"
#include "kernels/tile/sliced_layout.h"

namespace abq::kernels::cpu {

double model_cost(abq_path path, int64_t m, int64_t k, const abq_weight_format& w, const abq_act_format& x) {
  if (!launch::check_path_formats(path, w, x).empty()) return -1.0;
  const double slices = tile::slices_for_bits(w.bits).count;
  switch (path) {
    case ABQ_PATH_INT8_UNPACK: return double(m) * k / 4 + slices * k / 4 * 4;
    case ABQ_PATH_BITPLANE: return double(m) * k * w.bits * x.bits / 8 + double(w.bits) * k / 32 * 2;
    case ABQ_PATH_WEIGHT_ONLY: return double(m) * k * 2;
    default: return -1.0;
  }
}

}  // namespace abq::kernels::cpu

extern "C" abq_path abq_cpu_choose_path(int m, int n, int k, abq_weight_format w, abq_act_format x) {
  using namespace abq::kernels;
  const std::string problem = launch::check_problem(m, n, k, w, x);
  if (!problem.empty()) {
    launch::set_last_error("abq_cpu_choose_path: " + problem);
    return ABQ_PATH_AUTO;
  }
  if (x.bits == 16) return ABQ_PATH_WEIGHT_ONLY;
  std::string error;
  const auto& table = cpu::active_tuning(error);
  if (!error.empty()) {
    launch::set_last_error("abq_cpu_choose_path: " + error);
    return ABQ_PATH_AUTO;
  }
  const abq_path measured = cpu::tuned_path(table, m, n, k, w.bits, x.bits);
  if (measured != ABQ_PATH_AUTO) return measured;
  const double b1 = cpu::model_cost(ABQ_PATH_BITPLANE, m, k, w, x);
  const double s8 = cpu::model_cost(ABQ_PATH_INT8_UNPACK, m, k, w, x);
  return b1 < s8 ? ABQ_PATH_BITPLANE : ABQ_PATH_INT8_UNPACK;
}

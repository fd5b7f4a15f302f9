// Roofline path model and the C API's abq_choose_path / abq_model_time_us (see roofline.h).
#include "kernels/launch/roofline.h"

#include <algorithm>

#include "kernels/launch/format_check.h"

namespace abq::kernels::launch {

double model_time_us(abq_path path, int64_t m, int64_t n, int64_t k, const abq_weight_format& w,
                     const abq_act_format& x, const RooflineFigures& fig) {
  if (!check_problem(m, n, k, w, x).empty() || !check_path_formats(path, w, x).empty()) return -1.0;
  const double p = w.bits, q = x.bits;
  const double groups = static_cast<double>(group_count(k, w.group_size));
  const double bytes = double(n) * k * p / 8 + double(n) * groups * 8 + double(m) * k * q / 8 + double(m) * n * 2;
  const double m_pad8 = double((m + 7) / 8 * 8);
  double compute_s = 0;
  switch (path) {
    case ABQ_PATH_BITPLANE: compute_s = 2.0 * m_pad8 * n * k * p * q / fig.b1_ops_per_s; break;
    case ABQ_PATH_INT8_UNPACK: compute_s = 2.0 * m_pad8 * n * k / fig.s8_ops_per_s; break;
    case ABQ_PATH_WEIGHT_ONLY: compute_s = 2.0 * double(m) * n * k / fig.fp32_flops_per_s; break;
    default: return -1.0;
  }
  return std::max(bytes / fig.hbm_bytes_per_s, compute_s) * 1e6 + fig.launch_us;
}

}  // namespace abq::kernels::launch

using abq::kernels::launch::check_path_formats;
using abq::kernels::launch::check_problem;
using abq::kernels::launch::model_time_us;
using abq::kernels::launch::set_last_error;

extern "C" double abq_model_time_us(abq_path path, int m, int n, int k, abq_weight_format w, abq_act_format x) {
  return model_time_us(path, m, n, k, w, x);
}

extern "C" abq_path abq_choose_path(int m, int n, int k, abq_weight_format w, abq_act_format x, int sm, abq_path force) {
  std::string problem = check_problem(m, n, k, w, x);
  if (problem.empty() && sm < 80)
    problem = "the kernels need compute capability 8.0 or newer (mma.sync b1 AND / m16n8k32), got sm_" + std::to_string(sm);
  if (problem.empty() && force != ABQ_PATH_AUTO) problem = check_path_formats(force, w, x);
  if (!problem.empty()) {
    set_last_error("abq_choose_path: " + problem);
    return ABQ_PATH_AUTO;
  }
  if (force != ABQ_PATH_AUTO) return force;
  if (x.bits == 16) return ABQ_PATH_WEIGHT_ONLY;
  // Ties go to the int8 path: one pass instead of p·q plane pairs, and no activation bit-planes.
  const double t_b1 = model_time_us(ABQ_PATH_BITPLANE, m, n, k, w, x);
  const double t_s8 = model_time_us(ABQ_PATH_INT8_UNPACK, m, n, k, w, x);
  return t_b1 < t_s8 ? ABQ_PATH_BITPLANE : ABQ_PATH_INT8_UNPACK;
}

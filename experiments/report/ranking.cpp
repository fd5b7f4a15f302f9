#include "experiments/report/ranking.h"

#include <cmath>

namespace abq::report {
namespace {

double rounded(double v, int64_t decimals) {
  const double scale = std::pow(10.0, double(decimals));
  return std::round(v * scale) / scale;
}

double variance(double stderr_value) { return std::isfinite(stderr_value) ? stderr_value * stderr_value : 0.0; }

// The best finite value among the indices with rank 0, or -1.
int best_unranked(const std::vector<double>& values, const std::vector<int>& ranks, bool lower) {
  int best = -1;
  for (size_t i = 0; i < values.size(); ++i) {
    if (ranks[i] != 0 || !std::isfinite(values[i])) continue;
    if (best < 0 || (lower ? values[i] < values[best] : values[i] > values[best])) best = int(i);
  }
  return best;
}

}  // namespace

bool statistically_tied(double a, double sa, double b, double sb, double z, int64_t decimals) {
  if (rounded(a, decimals) == rounded(b, decimals)) return true;
  const double spread = std::sqrt(variance(sa) + variance(sb));
  return spread > 0 && std::fabs(a - b) / spread < z;
}

std::vector<int> rank_values(const std::vector<double>& values, const std::vector<double>& stderrs,
                             bool lower_is_better, double z, int64_t decimals) {
  std::vector<int> ranks(values.size(), 0);
  for (int rank = 1; rank <= 2; ++rank) {
    const int leader = best_unranked(values, ranks, lower_is_better);
    if (leader < 0) break;
    for (size_t i = 0; i < values.size(); ++i)
      if (ranks[i] == 0 && std::isfinite(values[i]) &&
          statistically_tied(values[i], stderrs[i], values[leader], stderrs[leader], z, decimals))
        ranks[i] = rank;
  }
  return ranks;
}

}  // namespace abq::report

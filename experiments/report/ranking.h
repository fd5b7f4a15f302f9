// Best and second per column, as papers mark them (bold, underlined), computed instead of typed.
// Two values tie when they print the same at the column's decimals, or when a z-test on their
// stored standard errors cannot tell them apart: |a - b| / sqrt(sa^2 + sb^2) < z (1.96: two-sided
// 5 %; lm-eval's model comparator uses the same statistic). A missing stderr counts as 0, so
// published numbers (no stderr) tie only when equal as printed. Every value tied with the best is
// best; second is the best of the rest, with its ties. A group with one ranked row gets no mark.
#pragma once

#include <cstdint>
#include <vector>

namespace abq::report {

/// |a - b| / sqrt(sa^2 + sb^2) < z, or a and b equal at `decimals` digits.
bool statistically_tied(double a, double sa, double b, double sb, double z, int64_t decimals);

/// 1 (best), 2 (second) or 0 for every value; NaN values are never ranked.
std::vector<int> rank_values(const std::vector<double>& values, const std::vector<double>& stderrs,
                             bool lower_is_better, double z, int64_t decimals);

}  // namespace abq::report

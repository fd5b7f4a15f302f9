#include "experiments/report/rescore.h"

#include <cstdio>
#include <map>

#include "framework/core/error.h"

namespace abq::report {
namespace {

struct MeanStderr {
  double mean = NAN, stderr_value = NAN;
};

// lm-eval metrics.py: mean, and sample_stddev (n - 1) / sqrt(n).
MeanStderr mean_stderr(const std::vector<double>& v) {
  MeanStderr out;
  if (v.empty()) return out;
  double sum = 0;
  for (double x : v) sum += x;
  out.mean = sum / double(v.size());
  if (v.size() < 2) return out;
  double ss = 0;
  for (double x : v) ss += (x - out.mean) * (x - out.mean);
  out.stderr_value = std::sqrt(ss / double(v.size() - 1)) / std::sqrt(double(v.size()));
  return out;
}

// Index of the first maximal score (Python's max over a list picks the first on ties).
size_t argmax(const std::vector<double>& s) {
  size_t best = 0;
  for (size_t i = 1; i < s.size(); ++i)
    if (s[i] > s[best]) best = i;
  return best;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

}  // namespace

ChoiceScores score_choice_table(const store::Table& table) {
  const auto& doc = table.i64("doc");
  const auto& choice = table.i64("choice");
  const auto& gold = table.i64("gold");
  const auto& ll = table.f64("loglik");
  const auto& tokens = table.i64("tokens");
  const auto& chars = table.i64("chars");
  const auto& bytes = table.i64("bytes");
  ChoiceScores s;
  std::vector<double> acc, norm_char, norm_token, norm_byte;
  size_t i = 0;
  bool single = true;
  while (i < doc.size()) {
    size_t end = i;
    while (end < doc.size() && doc[end] == doc[i]) ++end;
    std::vector<double> raw, by_char, by_token, by_byte;
    for (size_t k = i; k < end; ++k) {
      raw.push_back(ll[k]);
      by_char.push_back(ll[k] / double(chars[k]));
      by_token.push_back(ll[k] / double(tokens[k]));
      by_byte.push_back(ll[k] / double(bytes[k]));
    }
    single = single && end - i == 1;
    const int64_t g = gold[i];
    acc.push_back(choice[i + argmax(raw)] == g ? 1.0 : 0.0);
    norm_char.push_back(choice[i + argmax(by_char)] == g ? 1.0 : 0.0);
    norm_token.push_back(choice[i + argmax(by_token)] == g ? 1.0 : 0.0);
    norm_byte.push_back(choice[i + argmax(by_byte)] == g ? 1.0 : 0.0);
    ++s.n;
    i = end;
  }
  s.multiple_choice = s.n > 0 && !single;
  if (!s.multiple_choice) return s;
  const auto a = mean_stderr(acc), c = mean_stderr(norm_char), t = mean_stderr(norm_token), b = mean_stderr(norm_byte);
  s.acc = a.mean, s.acc_stderr = a.stderr_value;
  s.acc_norm = c.mean, s.acc_norm_stderr = c.stderr_value;
  s.acc_norm_token = t.mean, s.acc_norm_token_stderr = t.stderr_value;
  s.acc_norm_byte = b.mean, s.acc_norm_byte_stderr = b.stderr_value;
  return s;
}

std::vector<std::string> rescore_runs(std::vector<RunView>& runs) {
  std::vector<std::string> lines;
  for (auto& run : runs) {
    const std::string who = run.file + "#" + run.record.run_id;
    for (const auto& [name, table] : run.record.tables) {
      // The runner stores them as eval<i>_zs_<task>.
      const size_t at = name.find("zs_");
      if (at == std::string::npos || (at > 0 && name[at - 1] != '_')) continue;
      const std::string task = name.substr(at + 3);
      ChoiceScores s;
      try {
        s = score_choice_table(table);
      } catch (Error& e) {
        e.with_context("rescoring table " + name + " of " + who);
        throw;
      }
      if (!s.multiple_choice) continue;
      std::vector<store::MetricRow> added;
      for (auto& m : run.record.metrics) {
        if (m.dataset != task) continue;
        double value = NAN, stderr_value = NAN;
        if (m.metric == "acc") value = s.acc, stderr_value = s.acc_stderr;
        else if (m.metric == "acc_norm") value = s.acc_norm, stderr_value = s.acc_norm_stderr;
        else continue;
        if (std::fabs(value - m.value) > 1e-12)
          lines.push_back(who + " " + task + " " + m.metric + ": stored " + number(m.value) + ", rescored " + number(value));
        m.value = value;
        m.stderr_value = stderr_value;
        m.n = s.n;
        if (m.metric != "acc_norm") continue;
        const std::string rescored = "@rescored-from-" + m.protocol;
        std::string base = protocol_name(m.protocol);
        const size_t at = base.find(".acc_norm_char.");
        const std::string head = at == std::string::npos ? base : base.substr(0, at);
        const std::string tail = at == std::string::npos ? "" : base.substr(at + std::string(".acc_norm_char").size());
        added.push_back({"acc_norm_token", task, head + ".acc_norm_token" + tail + rescored, s.acc_norm_token,
                         s.acc_norm_token_stderr, s.n});
        added.push_back({"acc_norm_byte", task, head + ".acc_norm_byte" + tail + rescored, s.acc_norm_byte,
                         s.acc_norm_byte_stderr, s.n});
        lines.push_back(who + " " + task + ": added acc_norm_token " + number(s.acc_norm_token) + ", acc_norm_byte " +
                        number(s.acc_norm_byte));
      }
      run.record.metrics.insert(run.record.metrics.end(), added.begin(), added.end());
    }
  }
  return lines;
}

}  // namespace abq::report

// `abq report --rescore`: zero-shot accuracies recomputed from the stored per-choice tables
// (eval<i>_zs_<task>: doc, choice, gold, loglik, tokens, chars, bytes; evaluators/zero_shot.h), so a
// change of scoring rule needs no re-run. Per document, as lm-eval 0.4 scores multiple choice:
//   acc        = 1[argmax_c ll(c) == gold]                 (ties: the first maximal choice)
//   acc_norm   = 1[argmax_c ll(c) / chars(c) == gold]
//   acc_norm_token, acc_norm_byte: the same over tokens / UTF-8 bytes (stored beside acc_norm)
// with lm-eval's stderr (sample std with n - 1, over sqrt(n)). Tasks with one request per document
// (LAMBADA's greedy match) keep their stored numbers. Nothing is written back to the store.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/report/observation.h"
#include "framework/store/table.h"

namespace abq::report {

struct ChoiceScores {
  int64_t n = 0;         // documents
  bool multiple_choice = false;
  double acc = NAN, acc_stderr = NAN;
  double acc_norm = NAN, acc_norm_stderr = NAN;              // by characters
  double acc_norm_token = NAN, acc_norm_token_stderr = NAN;
  double acc_norm_byte = NAN, acc_norm_byte_stderr = NAN;
};

/// Scores one zs_<task> table; throws abq::Error naming the column when one is missing.
ChoiceScores score_choice_table(const store::Table& table);

/// Replaces acc / acc_norm of every run that stores zs_<task> tables (and adds acc_norm_token /
/// acc_norm_byte next to a stored acc_norm). Returns one line per changed or added number.
std::vector<std::string> rescore_runs(std::vector<RunView>& runs);

}  // namespace abq::report

// The zero-shot tasks as lm-evaluation-harness 0.4 forms them (task YAMLs and utils.py), read
// from the files in data/eval: each document becomes one (context, continuation) request per
// choice plus the gold index. Per-task templates are listed in README.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace abq::evaluators {

enum class TaskKind {
  multiple_choice,  // one context, one continuation per choice: acc, acc_norm
  multiple_input,   // one context per choice, shared continuation (WinoGrande partial scoring): acc
  loglikelihood,    // one request, greedy match and loglikelihood (LAMBADA): acc, ppl
};

struct TaskInfo {
  std::string name;      // piqa, arc_easy, arc_challenge, boolq, hellaswag, winogrande, lambada_openai
  TaskKind kind = TaskKind::multiple_choice;
  bool acc_norm = false;  // lm-eval reports acc_norm for this task
  std::string prompt;     // template description, hashed into the protocol record
};

struct TaskDoc {
  int64_t index = 0;                       // record number in the file (0-based)
  std::vector<std::string> contexts;       // one per request
  std::vector<std::string> continuations;  // one per request, target delimiter included
  std::vector<std::string> choices;        // choice strings as lm-eval measures them for acc_norm
  int64_t gold = 0;
};

/// Throws abq::ConfigError naming the known tasks for an unknown one.
const TaskInfo& task_info(const std::string& task);
std::vector<std::string> task_names();

/// Every document of `task` from `data` (and `labels` for PIQA's valid-labels.lst; empty: the
/// file beside `data` named <stem>-labels.lst). Errors name the file and the line.
std::vector<TaskDoc> load_task(const std::string& task, const std::string& data, const std::string& labels = "");

/// lm-eval hellaswag utils.preprocess: strip, " [title]" -> ". ", drop "[...]", "  " -> " ".
std::string hellaswag_preprocess(const std::string& text);

/// CPython random.sample(range(n), k) after random.seed(seed), draw for draw.
std::vector<int64_t> python_sample(int64_t n, int64_t k, uint64_t seed);

}  // namespace abq::evaluators

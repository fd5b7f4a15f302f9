#include "evaluators/zero_shot_tasks.h"

#include <cmath>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "framework/core/error.h"
#include "framework/core/spellcheck.h"
#include "framework/data/python_random.h"
#include "framework/data/token_windows.h"

namespace abq::evaluators {
namespace {

using nlohmann::json;

const std::vector<TaskInfo>& tasks() {
  static const std::vector<TaskInfo> list = {
      {"arc_challenge", TaskKind::multiple_choice, true, "Question: {question.stem}\\nAnswer: | ' ' + choice text"},
      {"arc_easy", TaskKind::multiple_choice, true, "Question: {question.stem}\\nAnswer: | ' ' + choice text"},
      {"boolq", TaskKind::multiple_choice, false, "{passage}\\nQuestion: {question}?\\nAnswer: | ' no', ' yes'"},
      {"hellaswag", TaskKind::multiple_choice, true, "preprocess(label: ctx) | ' ' + preprocess(ending)"},
      {"lambada_openai", TaskKind::loglikelihood, false, "text.split(' ')[:-1] joined | ' ' + last word"},
      {"piqa", TaskKind::multiple_choice, true, "Question: {goal}\\nAnswer: | ' ' + sol1, ' ' + sol2"},
      {"winogrande", TaskKind::multiple_input, false, "sentence[:_] + option | ' ' + sentence[_+1:].strip()"},
  };
  return list;
}

std::string strip(const std::string& s) {
  size_t b = 0, e = s.size();
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (b < e && sp(s[b])) ++b;
  while (e > b && sp(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> lines_of(const std::string& path) {
  std::string text = data::read_text_file(path);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t stop = nl == std::string::npos ? text.size() : nl;
    std::string line = text.substr(start, stop - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    start = stop + 1;
  }
  return lines;
}

// JSON-lines records (blank lines skipped), each with its 1-based line number.
std::vector<std::pair<int64_t, json>> jsonl(const std::string& path) {
  std::vector<std::pair<int64_t, json>> out;
  int64_t no = 0;
  for (const auto& line : lines_of(path)) {
    ++no;
    if (strip(line).empty()) continue;
    try {
      out.emplace_back(no, json::parse(line));
    } catch (const json::exception& e) {
      throw Error(cat("'", path, "' line ", no, ": not valid JSON (", e.what(), ")"));
    }
  }
  return out;
}

std::string str_field(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string())
    throw Error(cat(where, ": expected a string field \"", key, "\""));
  return j[key].get<std::string>();
}

std::string default_labels(const std::string& data) {
  auto dot = data.find_last_of('.');
  auto slash = data.find_last_of('/');
  std::string stem = dot == std::string::npos || (slash != std::string::npos && dot < slash) ? data : data.substr(0, dot);
  return stem + "-labels.lst";
}

TaskDoc mc(int64_t index, const std::string& context, const std::vector<std::string>& choices, int64_t gold) {
  TaskDoc d;
  d.index = index;
  d.choices = choices;
  d.gold = gold;
  for (const auto& c : choices) {
    d.contexts.push_back(context);
    d.continuations.push_back(" " + c);  // target_delimiter " "
  }
  return d;
}

std::vector<TaskDoc> load_piqa(const std::string& data, const std::string& labels_path) {
  auto records = jsonl(data);
  std::string lp = labels_path.empty() ? default_labels(data) : labels_path;
  std::vector<std::string> labels;
  for (auto& l : lines_of(lp))
    if (!strip(l).empty()) labels.push_back(strip(l));
  if (labels.size() != records.size())
    throw Error(cat("piqa: '", lp, "' has ", labels.size(), " labels but '", data, "' has ", records.size(), " records"));
  std::vector<TaskDoc> docs;
  for (size_t i = 0; i < records.size(); ++i) {
    std::string where = cat("'", data, "' line ", records[i].first);
    const auto& j = records[i].second;
    if (labels[i] != "0" && labels[i] != "1") throw Error(cat("piqa: '", lp, "' label ", i + 1, ": expected 0 or 1, got '", labels[i], "'"));
    docs.push_back(mc(int64_t(i), "Question: " + str_field(j, "goal", where) + "\nAnswer:",
                      {str_field(j, "sol1", where), str_field(j, "sol2", where)}, labels[i] == "1"));
  }
  return docs;
}

std::vector<TaskDoc> load_arc(const std::string& data) {
  std::vector<TaskDoc> docs;
  int64_t i = 0;
  for (auto& [no, j] : jsonl(data)) {
    std::string where = cat("'", data, "' line ", no);
    if (!j.contains("question") || !j["question"].is_object()) throw Error(where + ": expected an object field \"question\"");
    const auto& q = j["question"];
    std::string stem = str_field(q, "stem", where);
    std::string key = str_field(j, "answerKey", where);
    if (!q.contains("choices") || !q["choices"].is_array()) throw Error(where + ": expected question.choices to be a list");
    std::vector<std::string> texts;
    int64_t gold = -1;
    for (const auto& c : q["choices"]) {
      if (str_field(c, "label", where) == key) gold = int64_t(texts.size());
      texts.push_back(str_field(c, "text", where));
    }
    if (gold < 0) throw Error(cat(where, ": answerKey '", key, "' is not one of the choice labels"));
    docs.push_back(mc(i++, "Question: " + stem + "\nAnswer:", texts, gold));
  }
  return docs;
}

std::vector<TaskDoc> load_boolq(const std::string& data) {
  std::vector<TaskDoc> docs;
  int64_t i = 0;
  for (auto& [no, j] : jsonl(data)) {
    std::string where = cat("'", data, "' line ", no);
    if (!j.contains("label") || !j["label"].is_boolean())
      throw Error(where + ": expected a boolean field \"label\" (SuperGLUE BoolQ format)");
    docs.push_back(mc(i++, str_field(j, "passage", where) + "\nQuestion: " + str_field(j, "question", where) + "?\nAnswer:",
                      {"no", "yes"}, j["label"].get<bool>() ? 1 : 0));
  }
  return docs;
}

std::vector<TaskDoc> load_hellaswag(const std::string& data) {
  auto lines = lines_of(data);
  while (!lines.empty() && strip(lines.back()).empty()) lines.pop_back();
  if (lines.size() % 6 != 0)
    throw Error(cat("hellaswag: '", data, "' has ", lines.size(), " lines; expected 6 per task (context, gold, 4 endings)"));
  std::vector<TaskDoc> docs;
  for (size_t t = 0; t < lines.size() / 6; ++t) {
    const std::string& g = lines[6 * t + 1];
    if (g.size() != 1 || g[0] < '0' || g[0] > '3')
      throw Error(cat("hellaswag: '", data, "' line ", 6 * t + 2, ": expected the gold index 0-3, got '", g, "'"));
    std::vector<std::string> endings;
    for (size_t k = 2; k < 6; ++k) endings.push_back(hellaswag_preprocess(lines[6 * t + k]));
    docs.push_back(mc(int64_t(t), hellaswag_preprocess(lines[6 * t]), endings, g[0] - '0'));
  }
  return docs;
}

std::vector<TaskDoc> load_winogrande(const std::string& data) {
  std::vector<TaskDoc> docs;
  int64_t i = 0;
  for (auto& [no, j] : jsonl(data)) {
    std::string where = cat("'", data, "' line ", no);
    std::string sentence = str_field(j, "sentence", where);
    std::string answer = str_field(j, "answer", where);
    size_t blank = sentence.find('_');
    if (blank == std::string::npos) throw Error(where + ": the sentence has no '_' blank");
    if (answer != "1" && answer != "2") throw Error(cat(where, ": answer must be \"1\" or \"2\", got '", answer, "'"));
    TaskDoc d;
    d.index = i++;
    d.gold = answer == "1" ? 0 : 1;
    std::string target = strip(sentence.substr(blank + 1));  // lm-eval doc_to_target
    for (const char* key : {"option1", "option2"}) {
      std::string option = str_field(j, key, where);
      d.contexts.push_back(sentence.substr(0, blank) + option);  // lm-eval doc_to_choice
      d.continuations.push_back(" " + target);
      d.choices.push_back(option);
    }
    docs.push_back(std::move(d));
  }
  return docs;
}

std::vector<TaskDoc> load_lambada(const std::string& data) {
  std::vector<TaskDoc> docs;
  int64_t i = 0;
  for (auto& [no, j] : jsonl(data)) {
    std::string text = str_field(j, "text", cat("'", data, "' line ", no));
    size_t last_space = text.rfind(' ');  // text.split(' '): the last word follows the last space
    if (last_space == std::string::npos) throw Error(cat("'", data, "' line ", no, ": the text has no space"));
    TaskDoc d;
    d.index = i++;
    d.contexts = {text.substr(0, last_space)};
    d.continuations = {" " + text.substr(last_space + 1)};
    d.choices = {text.substr(last_space + 1)};
    d.gold = 0;
    docs.push_back(std::move(d));
  }
  return docs;
}

}  // namespace

const TaskInfo& task_info(const std::string& task) {
  for (const auto& t : tasks())
    if (t.name == task) return t;
  auto names = task_names();
  std::string hint = closest_match(task, names);
  throw ConfigError(cat("unknown zero-shot task '", task, "'", hint.empty() ? "" : "; did you mean '" + hint + "'?",
                        " known: ", join(names)));
}

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const auto& t : tasks()) names.push_back(t.name);
  return names;
}

std::vector<TaskDoc> load_task(const std::string& task, const std::string& data, const std::string& labels) {
  task_info(task);
  try {
    if (task == "piqa") return load_piqa(data, labels);
    if (task == "arc_easy" || task == "arc_challenge") return load_arc(data);
    if (task == "boolq") return load_boolq(data);
    if (task == "hellaswag") return load_hellaswag(data);
    if (task == "winogrande") return load_winogrande(data);
    return load_lambada(data);
  } catch (Error& e) {
    throw e.with_context(cat("while reading the ", task, " documents"));
  }
}

std::string hellaswag_preprocess(const std::string& text) {
  std::string s = strip(text);
  std::string t;
  for (size_t i = 0; i < s.size();) {  // .replace(" [title]", ". ")
    if (s.compare(i, 8, " [title]") == 0) { t += ". "; i += 8; } else t += s[i++];
  }
  std::string u;
  for (size_t i = 0; i < t.size();) {  // re.sub("\\[.*?\\]", "", ...): '[' up to the next ']' (no newlines here)
    if (t[i] == '[') {
      size_t close = t.find(']', i + 1);
      size_t nl = t.find('\n', i + 1);
      if (close != std::string::npos && (nl == std::string::npos || nl > close)) { i = close + 1; continue; }
    }
    u += t[i++];
  }
  std::string v;
  for (size_t i = 0; i < u.size();) {  // .replace("  ", " "): non-overlapping, left to right
    if (u.compare(i, 2, "  ") == 0) { v += ' '; i += 2; } else v += u[i++];
  }
  return v;
}

std::vector<int64_t> python_sample(int64_t n, int64_t k, uint64_t seed) {
  if (k < 0 || k > n) throw ConfigError(cat("sample: need 0 <= k <= n, got k=", k, " n=", n));
  data::PythonRandom rng(seed);
  std::vector<int64_t> result(static_cast<size_t>(k));
  int64_t setsize = 21;  // CPython Lib/random.py Random.sample
  if (k > 5) setsize += int64_t(std::pow(4.0, std::ceil(std::log(double(k * 3)) / std::log(4.0))));
  if (n <= setsize) {
    std::vector<int64_t> pool(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) pool[size_t(i)] = i;
    for (int64_t i = 0; i < k; ++i) {
      int64_t j = rng.randint(0, n - i - 1);  // _randbelow(n - i)
      result[size_t(i)] = pool[size_t(j)];
      pool[size_t(j)] = pool[size_t(n - i - 1)];
    }
  } else {
    std::set<int64_t> selected;
    for (int64_t i = 0; i < k; ++i) {
      int64_t j = rng.randint(0, n - 1);
      while (selected.count(j)) j = rng.randint(0, n - 1);
      selected.insert(j);
      result[size_t(i)] = j;
    }
  }
  return result;
}

}  // namespace abq::evaluators

// The one list of registered evaluators, sorted by name: name, options schema, factory.
#include "evaluators/registry.h"

#include "evaluators/perplexity.h"
#include "evaluators/rolling_perplexity.h"
#include "evaluators/zero_shot.h"
#include "evaluators/zero_shot_tasks.h"
#include "framework/config/schema.h"
#include "framework/core/error.h"
#include "framework/core/spellcheck.h"

namespace abq::evaluators {
namespace {

using config::Schema;

Schema perplexity_schema() {
  return Schema::object({
      {"protocol", Schema::enumeration({"text", "wikitext2", "c4", "c4-new", "ptb", "ptb-new", "llamacpp"}).default_value("text")
                       .doc("text assembly (README.md): text file, GPTQ wikitext2 / c4 / c4-new / ptb / ptb-new, "
                            "llamacpp (llama-perplexity on a text file)")},
      {"data", Schema::string().required().doc("the protocol's file: text file, wiki.test.raw, ptb.valid.txt (ptb), "
                                               "ptb.test.txt (ptb-new), c4-validation.00000-of-00008.json[.gz] (c4, c4-new)")},
      {"dataset", Schema::string().optional().doc("label in tables (default: the protocol; text: the file stem)")},
      {"seqlen", Schema::integer().range(2, 1 << 20).default_value(2048).doc("window length T (GPTQ: 2048)")},
      {"stride", Schema::integer().range(0, 1 << 20).default_value(0)
                     .doc("tokens between window starts; 0 = seqlen (non-overlapping, GPTQ); smaller scores the last stride targets")},
      {"score_from", Schema::integer().range(0, 1 << 20).default_value(0)
                         .doc("score only the targets at positions >= k of every window (seqlen/2: the second half, "
                              "as Brevitas; llamacpp: seqlen/2 + 1); 0 = by the stride rule")},
      {"max_windows", Schema::integer().range(0, 1 << 30).default_value(0).doc("score only the first N windows; 0 = all")},
      {"batch_size", Schema::integer().range(1, 4096).default_value(1).doc("windows per forward")},
      {"bos", Schema::enumeration({"auto", "stream_start", "per_doc", "per_window", "none"}).default_value("auto")
                  .doc("BOS convention; auto = stream_start (one BOS before the joined text), per_doc for c4")},
      {"c4_windows", Schema::integer().range(1, 1 << 20).default_value(256).doc("c4 / c4-new: number of windows (GPTQ: 256)")},
      {"c4_seed", Schema::integer().range(0, int64_t(1) << 62).default_value(0).doc("c4: random.seed of the sampler (GPTQ: 0)")},
      {"c4_new_docs", Schema::integer().range(1, 1 << 30).default_value(1100).doc("c4-new: documents joined (GPTQ: 1100)")},
      {"logit_metrics", Schema::boolean().default_value(true)
                            .doc("with an unquantized reference model: KL(fp||quant), top-1 agreement, dNLL, dp")},
  });
}

std::unique_ptr<Evaluator> make_perplexity(const YAML::Node& o, const PathResolver& resolve) {
  PerplexityOptions options;
  options.protocol = o["protocol"].as<std::string>();
  options.data = resolve(o["data"].as<std::string>());
  options.dataset = o["dataset"] ? o["dataset"].as<std::string>() : "";
  options.seqlen = o["seqlen"].as<int64_t>();
  options.stride = o["stride"].as<int64_t>();
  options.score_from = o["score_from"].as<int64_t>();
  options.max_windows = o["max_windows"].as<int64_t>();
  options.batch_size = o["batch_size"].as<int64_t>();
  options.bos = o["bos"].as<std::string>();
  options.c4_windows = o["c4_windows"].as<int64_t>();
  options.c4_seed = o["c4_seed"].as<int64_t>();
  options.c4_new_docs = o["c4_new_docs"].as<int64_t>();
  options.logit_metrics = o["logit_metrics"].as<bool>();
  return std::make_unique<PerplexityEvaluator>(options);
}

Schema rolling_perplexity_schema() {
  return Schema::object({
      {"task", Schema::enumeration({"wikitext"}).default_value("wikitext")
                   .doc("lm-eval loglikelihood_rolling task: wikitext (document-level WikiText-2, README.md)")},
      {"data", Schema::string().required().doc("wiki.test.raw (split into the wikitext_document_level pages) or "
                                               "JSON lines with a \"page\" field")},
      {"dataset", Schema::string().optional().doc("label in tables (default: the task)")},
      {"max_length", Schema::integer().range(0, 1 << 20).default_value(0)
                         .doc("rolling window length M; 0 = the model's context length, as lm-eval's HF model "
                              "(max_position_embeddings; 2048 when unknown)")},
      {"limit", Schema::integer().range(0, 1 << 30).default_value(0).doc("score only the first N documents; 0 = all")},
      {"batch_size", Schema::integer().range(1, 4096).default_value(1).doc("windows per forward")},
      {"add_special_tokens", Schema::boolean().default_value(false)
                                 .doc("encode documents with the tokenizer's BOS rule (lm-eval >= 0.4.10); "
                                      "false = without (lm-eval <= 0.4.9.1)")},
  });
}

std::unique_ptr<Evaluator> make_rolling_perplexity(const YAML::Node& o, const PathResolver& resolve) {
  RollingPerplexityOptions options;
  options.task = o["task"].as<std::string>();
  options.data = resolve(o["data"].as<std::string>());
  options.dataset = o["dataset"] ? o["dataset"].as<std::string>() : "";
  options.max_length = o["max_length"].as<int64_t>();
  options.limit = o["limit"].as<int64_t>();
  options.batch_size = o["batch_size"].as<int64_t>();
  options.add_special_tokens = o["add_special_tokens"].as<bool>();
  return std::make_unique<RollingPerplexityEvaluator>(options);
}

Schema zero_shot_schema() {
  return Schema::object({
      {"task", Schema::enumeration(task_names()).required().doc("lm-eval task, formed as lm-eval 0.4 forms it (README.md)")},
      {"data", Schema::string().required().doc("the task's file under data/eval (README.md lists which)")},
      {"labels", Schema::string().optional().doc("piqa: labels file (default: <data stem>-labels.lst)")},
      {"limit", Schema::integer().range(0, 1 << 30).default_value(0).doc("score only N documents; 0 = all")},
      {"sample_seed", Schema::integer().range(-1, int64_t(1) << 62).default_value(-1)
                          .doc("-1: the first `limit` documents (lm-eval --limit); >= 0: random.sample(range(n), limit) with this seed")},
      {"batch_size", Schema::integer().range(1, 4096).default_value(16).doc("requests per forward (length-sorted, right-padded)")},
      {"max_length", Schema::integer().range(2, 1 << 20).default_value(2048).doc("inputs keep their last max_length tokens")},
      {"add_bos", Schema::boolean().default_value(false).doc("BOS before every request (lm-eval add_bos_token; False for LLaMA)")},
  });
}

std::unique_ptr<Evaluator> make_zero_shot(const YAML::Node& o, const PathResolver& resolve) {
  ZeroShotOptions options;
  options.task = o["task"].as<std::string>();
  options.data = resolve(o["data"].as<std::string>());
  std::string labels = o["labels"] ? o["labels"].as<std::string>() : "";
  options.labels = labels.empty() ? "" : resolve(labels);
  options.limit = o["limit"].as<int64_t>();
  options.sample_seed = o["sample_seed"].as<int64_t>();
  options.batch_size = o["batch_size"].as<int64_t>();
  options.max_length = o["max_length"].as<int64_t>();
  options.add_bos = o["add_bos"].as<bool>();
  return std::make_unique<ZeroShotEvaluator>(options);
}

struct Entry {
  const char* name;
  Schema (*schema)();
  std::unique_ptr<Evaluator> (*make)(const YAML::Node&, const PathResolver&);
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> list = {
      {"perplexity", perplexity_schema, make_perplexity},
      {"rolling_perplexity", rolling_perplexity_schema, make_rolling_perplexity},
      {"zero_shot", zero_shot_schema, make_zero_shot},
  };
  return list;
}

}  // namespace

std::vector<std::string> evaluator_names() {
  std::vector<std::string> names;
  for (const auto& e : entries()) names.push_back(e.name);
  return names;
}

config::Schema evaluator_schema() {
  Schema::Fields types;
  for (const auto& e : entries()) types.push_back({e.name, e.schema()});
  return Schema::tagged("type", types);
}

std::unique_ptr<Evaluator> make_evaluator(const std::string& type, const YAML::Node& options, const PathResolver& resolve) {
  for (const auto& e : entries())
    if (type == e.name) return e.make(options, resolve);
  auto names = evaluator_names();
  std::string hint = closest_match(type, names);
  throw ConfigError(cat("unknown evaluator '", type, "'", hint.empty() ? "" : "; did you mean '" + hint + "'?",
                        " registered: ", join(names)));
}

}  // namespace abq::evaluators

// The text rules of lm-evaluation-harness's `wikitext` task (lm_eval/tasks/wikitext/, task
// version 2.0, unchanged since lm-eval 0.4.0), for the rolling perplexity of rolling_perplexity.h:
//   * documents: EleutherAI/wikitext_document_level (wikitext-2-raw-v1) as built by lm-eval's
//     former dataset script lm_eval/datasets/wikitext/wikitext.py: the raw file split at "\n";
//     a line whose rline = line.replace("= = =", "===").replace("= =", "==").strip() starts with
//     "= " and ends with " =" (a top-level " = Title = " heading) starts a new page; pages are the
//     lines joined with "\n"; a page that is whitespace only is dropped, the last is always kept.
//     wiki.test.raw gives 62 pages.
//   * the request string: preprocess_wikitext.py wikitext_detokenizer(page);
//   * the counts: words = len(re.split(r"\s+", page)), bytes = len(page.encode("utf-8")), both of
//     the page *before* detokenization (process_results).
// Python's `\s` and str.strip() are Unicode whitespace (str.isspace), reproduced here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace abq::evaluators {

/// The pages of a wiki.*.raw text (UTF-8, newlines as Python's text mode reads them: "\r\n" and
/// "\r" become "\n").
std::vector<std::string> wikitext_pages(const std::string& raw_text);

/// Pages from a file: a wiki.*.raw file (split as above) or JSON lines with a "page" field
/// (the document-level dataset exported with `Dataset.to_json`), chosen by the extension
/// (.jsonl / .json: JSON lines). Throws abq::Error naming the file (and line) when unreadable.
std::vector<std::string> read_wikitext_pages(const std::string& path);

/// lm-eval's wikitext_detokenizer, rule for rule (including its quirks: the `/' [0-9]/` rule
/// writes the literal text "/'[0-9]/", and the quote rules pair quotes across the whole page).
std::string wikitext_detokenize(const std::string& page);

/// len(re.split(r"\s+", text)): maximal runs of Unicode whitespace + 1 (leading / trailing
/// whitespace yields an empty piece that is counted, as Python does).
int64_t python_whitespace_split_count(const std::string& text);

}  // namespace abq::evaluators

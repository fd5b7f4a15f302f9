// Corpus readers against the rules of the Hugging Face loaders (wikitext, ptb_text_only), read by
// hand from the fixture files (tests/fixtures/evaluators/README.md), and Python's str.join.
#include <gtest/gtest.h>

#include "framework/core/error.h"
#include "framework/data/c4_json.h"
#include "framework/data/ptb_rows.h"
#include "framework/data/python_text.h"
#include "framework/data/wikitext_rows.h"
#include "tests/unit/data/corpus_fixture.h"

namespace abq::data {
namespace {

using testing::fixture;

TEST(CorpusReaders, HuggingFaceRowRules) {
  auto rows = wikitext_rows(fixture("wikitext2/wiki.test.raw"));
  ASSERT_GE(rows.size(), 4u);
  EXPECT_EQ(rows[0], "");                         // line " \n" is the empty row
  EXPECT_EQ(rows[1], " = Robert Boulter = \n");   // other lines keep spaces and "\n"
  auto ptb = ptb_rows(fixture("ptb/ptb.test.txt"));
  EXPECT_EQ(ptb[0], "the harbor authority said it was n't ready to raise fees");  // line.strip()
  EXPECT_EQ(python_join({"a", "b", ""}, "\n\n"), "a\n\nb\n\n");
}

TEST(CorpusReaders, C4DocumentsFromGzipJsonLines) {
  auto docs = c4_documents(fixture("c4/c4-format-sample.json.gz"));
  EXPECT_EQ(docs.size(), 40u);
  EXPECT_EQ(c4_documents(fixture("c4/c4-format-sample.json.gz"), 5).size(), 5u);
  EXPECT_EQ(docs[0].rfind("Robert Boulter is an English", 0), 0u);
  EXPECT_THROW(c4_documents(fixture("piqa/valid-labels.lst")), Error);  // "0" is JSON but not an object
}

}  // namespace
}  // namespace abq::data

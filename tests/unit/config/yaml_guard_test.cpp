// Expected messages follow from the rules in yaml_guard.h applied by hand to the inline documents
// (positions counted in each text, 1-based); the UTF-8 cases follow RFC 3629's table of
// well-formed byte sequences. Each input here crashed, hung or was silently accepted before.
#include "framework/config/yaml_guard.h"

#include <chrono>
#include <functional>

#include <gtest/gtest.h>

#include "framework/config/loader.h"
#include "framework/config/overrides.h"
#include "framework/core/error.h"

namespace abq::config {
namespace {

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const ConfigError& e) {
    return e.message();
  }
  return "(no error)";
}

TEST(YamlGuard, SelfReferencingAnchorIsAnAliasCycle) {
  EXPECT_EQ(error_of([] { parse_config("s: &s [*s]\n", "x.yaml"); }),
            "x.yaml:1:4: alias cycle: s[0] refers back to s, which contains it\n"
            "s: &s [*s]\n"
            "   ^ an alias may only name a value defined before it and outside it");
}

TEST(YamlGuard, AliasCycleThroughAMapNamesTheInnerPath) {
  EXPECT_EQ(error_of([] { parse_config("name: x\na: &a {b: {c: *a}}\n", "x.yaml"); }),
            "x.yaml:2:4: alias cycle: a.b.c refers back to a, which contains it\n"
            "a: &a {b: {c: *a}}\n"
            "   ^ an alias may only name a value defined before it and outside it");
}

// Nine levels of ten aliases: 10^9 values once merging copies them (gigabytes before).
TEST(YamlGuard, AliasBombIsStoppedAtTheValueLimit) {
  std::string text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level <= 9; ++level) {
    const std::string prev = "*l" + std::to_string(level - 1);
    text += "l" + std::to_string(level) + ": &l" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i) text += (i ? ", " : "") + prev;
    text += "]\n";
  }
  const auto start = std::chrono::steady_clock::now();
  const std::string error = error_of([&] { parse_config(text, "x.yaml"); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The walk stops in l4 (1 + 11 + 111 + 1111 + 11111 values before it), at an x of l0.
  EXPECT_EQ(error,
            "x.yaml:1:37: the config expands to more than 100000 values once aliases are expanded "
            "(at l4[7][8][8][8][9])\n"
            "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
            "                                    ^ aliases of lists of aliases multiply; write the values out or "
            "use fewer levels");
  EXPECT_LT(seconds, 5.0);
}

TEST(YamlGuard, NestingIsBounded) {
  const std::string text = "a: " + std::string(70, '[') + std::string(70, ']') + "\n";
  const std::string error = error_of([&] { parse_config(text, "x.yaml"); });
  EXPECT_EQ(error.rfind("x.yaml:1:68: nesting deeper than 64 levels at a[0][0]", 0), 0u) << error;
}

TEST(YamlGuard, ParserDepthLimitIsASyntaxError) {
  const std::string text = "a: " + std::string(5000, '[') + "\n";
  const std::string error = error_of([&] { parse_config(text, "x.yaml"); });
  EXPECT_EQ(error.rfind("x.yaml:", 0), 0u) << error;
  EXPECT_NE(error.find("YAML syntax error"), std::string::npos) << error;
}

TEST(YamlGuard, AMapOrListAsKeyIsAnError) {
  EXPECT_EQ(error_of([] { parse_config("name: x\nvars: {[a, b]: 1, ok: 2}\n", "x.yaml"); }),
            "x.yaml:2:8: a key in vars must be a name, got a list\n"
            "vars: {[a, b]: 1, ok: 2}\n"
            "       ^ keys are plain names; a list or map cannot be a key");
  EXPECT_EQ(error_of([] { parse_config("? {a: 1}\n: 2\n", "x.yaml"); }),
            "x.yaml:1:3: a key in top level must be a name, got a map\n"
            "? {a: 1}\n"
            "  ^ keys are plain names; a list or map cannot be a key");
}

TEST(YamlGuard, InvalidUtf8InValuesAndKeysIsReportedWhereItIs) {
  EXPECT_EQ(error_of([] { parse_config("name: x\nmodel:\n  path: caf\xe9.gguf\n  k\xff: 1\n", "x.yaml"); }),
            "x.yaml:3:9: invalid UTF-8 in the value of model.path (byte 0xe9 at byte 3 of the text)\n"
            "  path: caf\xe9.gguf\n"
            "        ^ config files must be UTF-8; write non-ASCII text as \"\\u00e9\" escapes\n"
            "x.yaml:4:3: invalid UTF-8 in a key in model (byte 0xff at byte 1 of the text)\n"
            "  k\xff: 1\n"
            "  ^ config files must be UTF-8; write non-ASCII text as \"\\u00e9\" escapes");
  // Escapes produce UTF-8; valid multi-byte text passes.
  EXPECT_EQ(parse_config("a: \"caf\\u00e9\"\nb: caf\xc3\xa9\n", "x.yaml").root()["a"].Scalar(), "caf\xc3\xa9");
}

TEST(YamlGuard, SetValuesAreCheckedAtTheirFlag) {
  Document doc = parse_config("name: x\n", "x.yaml");
  EXPECT_EQ(error_of([&] { apply_override(doc, "vars={[a]: 1}"); }),
            "--set vars={[a]: 1}: a key in vars must be a name, got a list\n"
            "    keys are plain names; a list or map cannot be a key");
  EXPECT_EQ(error_of([&] { apply_override(doc, "model.path=caf\xe9"); }),
            "--set model.path=caf\xe9: invalid UTF-8 in the value of model.path (byte 0xe9 at byte 3 of the text)\n"
            "    config files must be UTF-8; write non-ASCII text as \"\\u00e9\" escapes");
}

TEST(YamlGuard, Utf8WellFormedness) {
  EXPECT_EQ(first_invalid_utf8(""), std::string::npos);
  EXPECT_EQ(first_invalid_utf8("plain ascii"), std::string::npos);
  EXPECT_EQ(first_invalid_utf8("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"), std::string::npos);
  EXPECT_EQ(first_invalid_utf8("ab\x80"), 2u);              // continuation without a lead
  EXPECT_EQ(first_invalid_utf8("a\xc0\xaf"), 1u);           // overlong '/'
  EXPECT_EQ(first_invalid_utf8("\xe0\x80\xaf"), 0u);        // overlong, 3 bytes
  EXPECT_EQ(first_invalid_utf8("\xed\xa0\x80"), 0u);        // surrogate U+D800
  EXPECT_EQ(first_invalid_utf8("\xf4\x90\x80\x80"), 0u);    // above U+10FFFF
  EXPECT_EQ(first_invalid_utf8("x\xe2\x82"), 1u);           // truncated
  EXPECT_EQ(first_invalid_utf8("\xe2\x28\xa1"), 0u);        // bad continuation
  EXPECT_EQ(first_invalid_utf8("\xff"), 0u);
}

}  // namespace
}  // namespace abq::config

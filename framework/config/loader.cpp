#include "framework/config/loader.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include <yaml-cpp/eventhandler.h>

#include "framework/config/diagnostics.h"
#include "framework/config/scalar.h"
#include "framework/config/yaml_guard.h"
#include "framework/core/error.h"

namespace abq::config {
namespace fs = std::filesystem;
namespace {

constexpr const char* kIncludeKey = "include";

SourcePosition from_mark(const YAML::Mark& mark, const std::string& file) {
  SourcePosition where;
  where.file = file;
  if (!mark.is_null() && mark.line >= 0) {
    where.line = mark.line + 1;
    where.column = mark.column + 1;
  }
  return where;
}

void record(Document& document, const KeyPath& path, const YAML::Node& node, const std::string& file,
            const SourcePosition* key_where) {
  SourcePosition where = from_mark(node.Mark(), file);
  // An empty value (`key:` then a newline) is marked at the next token; point at its key instead.
  if (key_where && (node.IsNull() || where.line == 0) && where.line != key_where->line) where = *key_where;
  document.set_value_position(path, where);
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      KeyPath child = path;
      child.push_back(it->first.Scalar());
      SourcePosition key = from_mark(it->first.Mark(), file);
      document.set_key_position(child, key);
      record(document, child, it->second, file, &key);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      KeyPath child = path;
      child.push_back(index_segment(i));
      record(document, child, node[i], file, nullptr);
    }
  }
}

// yaml-cpp keeps the last of two equal keys silently; a repeated key is almost always a mistake.
void check_duplicates(const Document& document, const YAML::Node& node, const KeyPath& path,
                      Diagnostics& diagnostics) {
  if (node.IsMap()) {
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.Scalar();
      KeyPath child = path;
      child.push_back(key);
      if (!seen.insert(key).second) {
        diagnostics.add(from_mark(it->first.Mark(), document.main_file()),
                        cat("duplicate key '", key, "' in ", format_path(path)),
                        "each key may appear once per map");
      }
      check_duplicates(document, it->second, child, diagnostics);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      KeyPath child = path;
      child.push_back(index_segment(i));
      check_duplicates(document, node[i], child, diagnostics);
    }
  }
}

struct IncludeFrame {
  std::string canonical;
  std::string display;
};

// Experiment files and fragments are a few kilobytes; the bound keeps `include: [/dev/zero]` or a
// log file named by mistake from being read into memory whole.
constexpr uintmax_t kMaxConfigBytes = uintmax_t(1) << 22;

// Reads a config file; "" on success, else why not. Only regular files are read: a directory
// cannot be opened as text and a FIFO or device could block or never end.
std::string read_file(const std::string& path, std::string& text) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return "no such file";
  if (fs::is_directory(status)) return "it is a directory, not a file";
  if (!fs::is_regular_file(status)) return "it is not a regular file (a device, FIFO or socket)";
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return "cannot read its size: " + ec.message();
  if (size > kMaxConfigBytes)
    return cat("it has ", size, " bytes; config files are limited to ", kMaxConfigBytes, " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open it for reading";
  std::ostringstream buffer;
  buffer << in.rdbuf();
  text = buffer.str();
  if (text.size() > kMaxConfigBytes)  // grew since it was measured
    return cat("it has more than ", kMaxConfigBytes, " bytes; config files are limited to that");
  return "";
}

std::string canonical_of(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  return ec ? fs::absolute(path).lexically_normal().string() : p.string();
}

// Notes where each document starts and whether it holds anything, for find_second_document.
class DocumentScanner final : public YAML::EventHandler {
 public:
  YAML::Mark start;  // the document's first node, else its start
  bool content = false;
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark, content = false; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { seen(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override { seen(mark); }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    seen(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    seen(mark);
  }
  void OnMapEnd() override {}

 private:
  void seen(const YAML::Mark& mark) {
    if (!content) start = mark;
    content = true;
  }
};

// YAML::Load reads the first document and drops the rest without a word, so a second document
// (after `---`) with content is an error; empty trailing ones are not. YAML::LoadAll is not used:
// on a stray ',' it yields empty documents without end until memory runs out, so the scan here
// gives up after a few documents that make no progress.
void find_second_document(const std::string& text, const std::string& display, const Document& sources) {
  constexpr int kMaxEmptyDocuments = 8;
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentScanner scanner;
  if (!parser.HandleNextDocument(scanner)) return;
  for (int n = 2; n < 2 + kMaxEmptyDocuments; ++n) {
    if (!parser.HandleNextDocument(scanner)) return;
    if (!scanner.content) continue;
    Issue issue{from_mark(scanner.start, display),
                cat("a config file holds one YAML document; document ", n, " starts here"),
                "remove the '---' line above it, or move it to a file of its own"};
    throw ConfigError(format_issue(issue, &sources));
  }
  Issue issue{from_mark(scanner.start, display), "YAML syntax error: the parser makes no progress here",
              "a ',' or flow indicator outside any [ ] or { }?"};
  throw ConfigError(format_issue(issue, &sources));
}

// The file's one YAML document, checked by check_parsed_tree before anything walks it.
YAML::Node parse_one_document(const std::string& text, const std::string& display, const Document& sources) {
  YAML::Node root;
  try {
    root.reset(YAML::Load(text));
    find_second_document(text, display, sources);
  } catch (const YAML::ParserException& e) {
    Issue issue{from_mark(e.mark, display), "YAML syntax error: " + e.msg, ""};
    throw ConfigError(format_issue(issue, &sources));
  }
  check_parsed_tree(root, {display, "", &sources, {}});
  return root;
}

Document load_text(const std::string& text, const std::string& display, std::vector<IncludeFrame>& stack);

Document load_include(const std::string& display, const SourcePosition& where, const Document& includer,
                      std::vector<IncludeFrame>& stack) {
  const std::string canonical = canonical_of(display);
  for (size_t i = 0; i < stack.size(); ++i) {
    if (stack[i].canonical != canonical) continue;
    std::string chain;
    for (size_t j = i; j < stack.size(); ++j) chain += stack[j].display + " -> ";
    Issue issue{where, cat("include cycle: ", chain, display),
                "a file may not include itself, directly or through others"};
    throw ConfigError(format_issue(issue, &includer));
  }
  std::string text;
  const std::string problem = read_file(display, text);
  if (!problem.empty()) {
    Issue issue{where, cat("cannot open included file '", display, "': ", problem),
                "include paths name YAML files, relative to the including file"};
    throw ConfigError(format_issue(issue, &includer));
  }
  stack.push_back({canonical, display});
  Document loaded = load_text(text, display, stack);
  stack.pop_back();
  return loaded;
}

Document load_text(const std::string& text, const std::string& display, std::vector<IncludeFrame>& stack) {
  Document own;
  own.add_source(display, text);
  YAML::Node root = parse_one_document(text, display, own);
  if (!root.IsDefined() || root.IsNull()) root.reset(YAML::Node(YAML::NodeType::Map));
  if (!root.IsMap()) {
    Issue issue{from_mark(root.Mark(), display),
                cat("a config file must be a map of keys, got a ", kind_name(root)), ""};
    throw ConfigError(format_issue(issue, &own));
  }
  own.root().reset(root);
  record(own, {}, root, display, nullptr);
  Diagnostics duplicates(own);
  check_duplicates(own, root, {}, duplicates);
  duplicates.throw_if_any();

  Document result;
  result.add_source(display, text);
  const YAML::Node& const_root = root;
  if (const_root[kIncludeKey]) {
    const YAML::Node includes = const_root[kIncludeKey];
    std::vector<std::pair<std::string, SourcePosition>> files;
    const fs::path folder = fs::path(display).parent_path();
    auto add_file = [&](const YAML::Node& entry, const KeyPath& path) {
      if (!entry.IsScalar() || read_scalar(entry).kind != ScalarKind::string) {
        Diagnostics d(own);
        d.add(path, false, cat("include entries must be file paths, got ", kind_name(entry)));
        d.throw_if_any();
      }
      files.emplace_back((folder / entry.Scalar()).lexically_normal().string(), own.locate(path));
    };
    if (includes.IsSequence()) {
      for (size_t i = 0; i < includes.size(); ++i) add_file(includes[i], {kIncludeKey, index_segment(i)});
    } else {
      add_file(includes, {kIncludeKey});
    }
    for (const auto& [file, where] : files) merge_documents(result, load_include(file, where, own, stack));
    root.remove(kIncludeKey);
    own.erase_positions({kIncludeKey});
  }
  merge_documents(result, own);
  return result;
}

void merge_maps(Document& base, YAML::Node base_map, const Document& over, const YAML::Node& over_map,
                const KeyPath& path) {
  for (auto it = over_map.begin(); it != over_map.end(); ++it) {
    const std::string key = it->first.Scalar();
    KeyPath child = path;
    child.push_back(key);
    YAML::Node existing = base_map[key];
    if (existing.IsMap() && it->second.IsMap()) {
      if (const SourcePosition* p = over.value_position(child)) base.set_value_position(child, *p);
      if (const SourcePosition* p = over.key_position(child)) base.set_key_position(child, *p);
      merge_maps(base, existing, over, it->second, child);
    } else {
      base_map[key] = YAML::Clone(it->second);
      base.erase_positions(child);
      base.copy_positions(over, child, child);
    }
  }
}

}  // namespace

void merge_documents(Document& base, const Document& over) {
  base.merge_sources(over);
  ABQ_ASSERT(base.root().IsMap() && over.root().IsMap(), "merge_documents needs two maps");
  if (const SourcePosition* p = over.value_position({})) base.set_value_position({}, *p);
  merge_maps(base, base.root(), over, over.root(), {});
}

void record_marks(Document& document, const KeyPath& path, const YAML::Node& node, const std::string& file) {
  record(document, path, node, file, nullptr);
}

Document parse_config(const std::string& text, const std::string& name) {
  std::vector<IncludeFrame> stack{{canonical_of(name), name}};
  return load_text(text, name, stack);
}

Document load_config(const std::string& path) {
  std::string text;
  const std::string problem = read_file(path, text);
  if (!problem.empty()) throw ConfigError(cat("cannot open config file '", path, "': ", problem));
  return parse_config(text, path);
}

}  // namespace abq::config

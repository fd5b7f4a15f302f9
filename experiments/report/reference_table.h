// Published numbers as data: one file per paper table under results/reference/ (written by
// tools/reference/extract_reference.py from the transcription document, checked by
// tests/unit/report/reference_tables_test.cpp). Each entry is one printed cell with its model,
// method, setting (as printed and split into bit widths), dataset, protocol id, metric, value and
// citation. A malformed file is a ConfigError at file:line:col (config/validate.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace abq::report {

struct ReferenceEntry {
  std::string model, method;
  std::string setting;                  // as printed: "W4A16", "W2*A8", "FP16"
  std::optional<int> w_bits, a_bits;    // nullopt: the setting is no WxAy text
  std::optional<int> kv_bits;           // nullopt: the source does not say
  int64_t group_size = 0;               // 0 = per channel
  bool bit_balance = false;             // W2*: the 5-level 2-bit grid
  std::string dataset, protocol, metric;
  double value = NAN;
  std::string printed;                  // the text as printed when it is no plain decimal ("2.1e3")
  double paper_value = NAN;             // re-run tables: the number the re-run was compared against
  std::string baseline, hardware, unit, source, note;

  /// The run attribute form "W4A4KV4", "W2A16KV16*", "W4A16KV16g128"; "" when a width is unknown.
  std::string setting_id() const;
};

struct ReferenceTable {
  std::string path;
  std::string id;           // e.g. abq_table4_weight_only_ppl
  std::string paper;        // e.g. ABQ-LLM
  std::string paper_table;  // e.g. Table 4
  std::string note;
  std::vector<ReferenceEntry> entries;
};

/// Reads and validates one reference table file; throws abq::ConfigError listing every problem.
ReferenceTable load_reference_table(const std::string& path);

/// "W<w>A<a>KV<kv>[g<G>][*]" (evaluation-protocols.md §8.5, the form runs store).
std::string setting_id(int w_bits, int a_bits, int kv_bits, int64_t group_size, bool bit_balance);

}  // namespace abq::report

// Layout: observations + a table spec -> the cells of one table, independent of the output
// format. Rows are (setting group, method, source); in a compare table each column becomes the
// triple paper / ours / delta and a row holds both sources. Several stored runs of one cell
// (seeds) are averaged; the first reference entry of a cell wins and differing ones are flagged.
// Every (model, setting, method, column) that has both a paper and an ours value is also listed
// as a Comparison, which the delta cells and the gates (gates.h) read; a comparison across
// different protocols is flagged and never given a delta.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "experiments/report/observation.h"
#include "experiments/report/report_spec.h"

namespace abq::report {

enum class Part { value, paper, ours, delta };

struct Cell {
  bool present = false;
  double value = NAN, stderr_value = NAN;
  int observations = 0;            // runs averaged (ours) or 1 (paper)
  std::string protocol;            // protocol name of the value
  std::string printed;             // the paper's text when it is no plain decimal
  std::vector<int> notes;          // footnote numbers (1-based, LaidTable::notes)
  int rank = 0;                    // 1 best (bold), 2 second (underlined), 0 neither
  std::string origin;              // provenance: run file#id list or reference table
};

struct LaidColumn {
  const ColumnSpec* spec = nullptr;
  Part part = Part::value;
};

struct LaidRow {
  std::string group;      // setting label (group_by setting) or ""
  std::string setting;    // setting id
  std::string method;
  std::string label;      // method, "+ (ours)" when both sources are rows
  Source source = Source::ours;
  bool ranked = true;     // false for unranked methods (FP rows)
  std::vector<Cell> cells;  // one per LaidTable::columns
};

struct Comparison {
  std::string setting, method;
  const ColumnSpec* column = nullptr;
  double paper = NAN, ours = NAN, ours_stderr = NAN;
  std::string paper_protocol, ours_protocol;
  bool comparable = false;  // same protocol name
  std::string paper_origin, ours_origin;
};

struct LaidTable {
  const TableSpec* spec = nullptr;
  std::vector<LaidColumn> columns;
  std::vector<LaidRow> rows;
  std::vector<std::string> notes;  // footnote texts, numbered from 1
  std::vector<Comparison> comparisons;
};

/// Lays out one table; `z_critical` decides ties for best / second (ranking.h).
LaidTable lay_out(const TableSpec& spec, const std::vector<Observation>& observations, double z_critical);

/// The text of a value at `decimals` digits, as papers print it: "6.13", "1483", "2.1e5" (>= 1e5),
/// "NaN"; the printed text of a paper value wins.
std::string value_text(const Cell& cell, int64_t decimals, bool signed_delta = false);

}  // namespace abq::report

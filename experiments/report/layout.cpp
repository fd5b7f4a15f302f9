#include "experiments/report/layout.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "experiments/report/ranking.h"
#include "framework/core/error.h"

namespace abq::report {
namespace {

// Footnote texts, each numbered once.
class Notes {
 public:
  explicit Notes(std::vector<std::string>* texts) : texts_(texts) {}
  void add(Cell& cell, const std::string& text) {
    if (!texts_) return;
    auto it = std::find(texts_->begin(), texts_->end(), text);
    int number = int(it - texts_->begin()) + 1;
    if (it == texts_->end()) texts_->push_back(text);
    if (std::find(cell.notes.begin(), cell.notes.end(), number) == cell.notes.end()) cell.notes.push_back(number);
  }

 private:
  std::vector<std::string>* texts_;
};

bool matches_column(const Observation& o, const ColumnSpec& c) {
  if (!c.model.empty() && o.model != c.model) return false;
  if (o.dataset != c.dataset) return false;
  return o.metric == (o.source == Source::ours ? c.metric : column_paper_metric(c));
}

std::string column_name(const ColumnSpec& c) { return c.group.empty() ? c.label : c.group + " " + c.label; }

void check_protocol(Cell& cell, const ColumnSpec& c, Notes& notes) {
  if (!c.protocol.empty() && cell.protocol != c.protocol)
    notes.add(cell, "measured under " + cell.protocol + "; the column " + column_name(c) + " is defined under " +
                        c.protocol);
}

Cell ours_cell(const std::vector<const Observation*>& obs, const ColumnSpec& c, Notes& notes) {
  Cell cell;
  if (obs.empty()) return cell;
  double sum = 0, var = 0;
  bool have_stderr = true;
  std::set<std::string> protocols;
  for (const auto* o : obs) {
    sum += o->value;
    if (std::isfinite(o->stderr_value)) var += o->stderr_value * o->stderr_value;
    else have_stderr = false;
    protocols.insert(protocol_name(o->protocol));
    cell.origin += (cell.origin.empty() ? "" : " ") + o->origin;
  }
  const double k = double(obs.size());
  cell.present = true;
  cell.observations = int(obs.size());
  cell.value = sum / k;
  cell.stderr_value = have_stderr ? std::sqrt(var) / k : NAN;  // the stderr of a mean of independent runs
  std::string joined;
  for (const auto& p : protocols) joined += (joined.empty() ? "" : ", ") + p;
  cell.protocol = protocols.size() == 1 ? *protocols.begin() : "mixed";
  if (protocols.size() > 1) notes.add(cell, "the runs of this cell were measured under different protocols: " + joined);
  else check_protocol(cell, c, notes);
  return cell;
}

Cell paper_cell(const std::vector<const Observation*>& obs, const ColumnSpec& c, Notes& notes) {
  Cell cell;
  if (obs.empty()) return cell;
  const Observation& first = *obs.front();
  cell.present = true;
  cell.observations = 1;
  cell.value = first.value;
  cell.printed = first.printed;
  cell.protocol = protocol_name(first.protocol);
  cell.origin = first.origin;
  for (size_t i = 1; i < obs.size(); ++i)
    if (!(obs[i]->value == first.value) && !(std::isnan(obs[i]->value) && std::isnan(first.value))) {
      char text[64];
      std::snprintf(text, sizeof text, "%g", obs[i]->value);
      notes.add(cell, "also printed as " + std::string(text) + " (" + obs[i]->origin + ")");
    }
  check_protocol(cell, c, notes);
  return cell;
}

Cell mean_cell(const std::vector<const Cell*>& parts) {
  Cell cell;
  if (parts.empty()) return cell;
  double sum = 0, var = 0;
  bool have_stderr = true;
  std::set<std::string> protocols;
  for (const Cell* p : parts) {
    if (!p->present) return Cell{};
    sum += p->value;
    if (std::isfinite(p->stderr_value)) var += p->stderr_value * p->stderr_value;
    else have_stderr = false;
    protocols.insert(p->protocol);
  }
  const double k = double(parts.size());
  cell.present = true;
  cell.observations = 1;
  cell.value = sum / k;
  cell.stderr_value = have_stderr ? std::sqrt(var) / k : NAN;
  for (const auto& p : protocols) cell.protocol += (cell.protocol.empty() ? "" : "+") + p;
  cell.origin = "mean of " + std::to_string(parts.size()) + " columns";
  return cell;
}

Cell delta_cell(const Cell& paper, const Cell& ours, Notes& notes) {
  Cell cell;
  if (!paper.present || !ours.present) return cell;
  cell.present = true;
  if (paper.protocol != ours.protocol) {
    cell.value = NAN;
    cell.printed = "n/c";
    notes.add(cell, "not compared: ours measured under " + ours.protocol + ", the paper under " + paper.protocol);
    return cell;
  }
  cell.value = ours.value - paper.value;
  cell.stderr_value = ours.stderr_value;
  return cell;
}

struct RowKey {
  std::string setting, method;
  Source source;
  bool operator<(const RowKey& o) const {
    return std::tie(setting, method, source) < std::tie(o.setting, o.method, o.source);
  }
};

bool wanted(const TableSpec& spec, const Observation& o) {
  if (spec.sources == "ours" && o.source != Source::ours) return false;
  if (spec.sources == "paper" && o.source != Source::paper) return false;
  if (!spec.settings.empty() &&
      std::none_of(spec.settings.begin(), spec.settings.end(), [&](const SettingSpec& s) { return s.id == o.setting; }))
    return false;
  if (!spec.methods.empty() && std::find(spec.methods.begin(), spec.methods.end(), o.method) == spec.methods.end())
    return false;
  return std::any_of(spec.columns.begin(), spec.columns.end(), [&](const ColumnSpec& c) { return matches_column(o, c); });
}

// Position of `value` in `order` (spec order), else after all of them in first-seen order.
size_t order_of(const std::vector<std::string>& order, std::vector<std::string>& seen, const std::string& value) {
  auto it = std::find(order.begin(), order.end(), value);
  if (it != order.end()) return size_t(it - order.begin());
  auto s = std::find(seen.begin(), seen.end(), value);
  if (s == seen.end()) s = seen.insert(seen.end(), value);
  return order.size() + size_t(s - seen.begin());
}

std::string setting_label(const TableSpec& spec, const std::string& id) {
  for (const auto& s : spec.settings)
    if (s.id == id) return s.label;
  return id;
}

void fill_aggregates(const TableSpec& spec, LaidTable& table, LaidRow& row) {
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const LaidColumn& col = table.columns[i];
    if (col.spec->mean_of.empty() || col.part == Part::delta) continue;
    std::vector<const Cell*> parts;
    for (const auto& label : col.spec->mean_of)
      for (size_t j = 0; j < table.columns.size(); ++j) {
        const LaidColumn& other = table.columns[j];
        if (other.part == col.part && other.spec->group == col.spec->group && other.spec->label == label &&
            other.spec->mean_of.empty())
          parts.push_back(&row.cells[j]);
      }
    row.cells[i] = mean_cell(parts);
  }
}

void rank_table(LaidTable& table, double z) {
  for (size_t c = 0; c < table.columns.size(); ++c) {
    const LaidColumn& col = table.columns[c];
    if (col.part == Part::delta) continue;
    std::map<std::string, std::vector<size_t>> groups;
    for (size_t r = 0; r < table.rows.size(); ++r)
      if (table.rows[r].ranked && table.rows[r].cells[c].present) groups[table.rows[r].group].push_back(r);
    for (const auto& [group, rows] : groups) {
      if (rows.size() < 2) continue;  // best of one is no finding
      std::vector<double> values, stderrs;
      for (size_t r : rows) {
        values.push_back(table.rows[r].cells[c].value);
        stderrs.push_back(table.rows[r].cells[c].stderr_value);
      }
      const auto ranks = rank_values(values, stderrs, column_lower_is_better(*col.spec), z, col.spec->decimals);
      for (size_t k = 0; k < rows.size(); ++k) table.rows[rows[k]].cells[c].rank = ranks[k];
    }
  }
}

std::vector<Comparison> compare_sources(const TableSpec& spec, const std::vector<const Observation*>& obs) {
  std::vector<Comparison> out;
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto* o : obs) keys.insert({o->setting, o->method});
  Notes none(nullptr);
  for (const auto& [setting, method] : keys)
    for (const auto& c : spec.columns) {
      if (!c.mean_of.empty()) continue;
      std::vector<const Observation*> ours, paper;
      for (const auto* o : obs)
        if (o->setting == setting && o->method == method && matches_column(*o, c))
          (o->source == Source::ours ? ours : paper).push_back(o);
      if (ours.empty() || paper.empty()) continue;
      const Cell a = ours_cell(ours, c, none), p = paper_cell(paper, c, none);
      out.push_back({setting, method, &c, p.value, a.value, a.stderr_value, p.protocol, a.protocol,
                     p.protocol == a.protocol, p.origin, a.origin});
    }
  return out;
}

}  // namespace

LaidTable lay_out(const TableSpec& spec, const std::vector<Observation>& observations, double z_critical) {
  LaidTable table;
  table.spec = &spec;
  for (const auto& c : spec.columns) {
    if (spec.compare)
      for (Part p : {Part::paper, Part::ours, Part::delta}) table.columns.push_back({&c, p});
    else
      table.columns.push_back({&c, Part::value});
  }
  std::vector<const Observation*> obs;
  for (const auto& o : observations)
    if (wanted(spec, o)) obs.push_back(&o);

  // Row keys in display order: setting group, then method, then paper before ours.
  std::vector<std::string> setting_order, method_order = spec.methods, seen_settings, seen_methods;
  for (const auto& s : spec.settings) setting_order.push_back(s.id);
  std::vector<std::pair<std::tuple<size_t, size_t, int>, RowKey>> keys;
  std::set<RowKey> have;
  for (const auto* o : obs) {
    RowKey key{o->setting, o->method, spec.compare ? Source::ours : o->source};
    if (!have.insert(key).second) continue;
    const size_t s = spec.group_by == "setting" ? order_of(setting_order, seen_settings, key.setting) : 0;
    const size_t m = order_of(method_order, seen_methods, key.method);
    keys.push_back({{s, m, key.source == Source::paper ? 0 : 1}, key});
  }
  std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::set<std::string> methods_with_paper;
  for (const auto* o : obs)
    if (o->source == Source::paper) methods_with_paper.insert(o->method);

  Notes notes(&table.notes);
  for (const auto& [order, key] : keys) {
    LaidRow row;
    row.setting = key.setting;
    row.group = spec.group_by == "setting" ? setting_label(spec, key.setting) : "";
    row.method = key.method;
    row.source = key.source;
    row.label = key.method;
    if (!spec.compare && key.source == Source::ours && spec.sources == "both" && methods_with_paper.count(key.method))
      row.label += " (ours)";
    row.ranked = std::find(spec.unranked.begin(), spec.unranked.end(), key.method) == spec.unranked.end() &&
                 key.setting != "W16A16KV16";
    row.cells.resize(table.columns.size());
    for (size_t i = 0; i < table.columns.size(); ++i) {
      const LaidColumn& col = table.columns[i];
      if (!col.spec->mean_of.empty() || col.part == Part::delta) continue;
      const Source want = col.part == Part::value ? key.source : col.part == Part::paper ? Source::paper : Source::ours;
      std::vector<const Observation*> cell_obs;
      for (const auto* o : obs)
        if (o->source == want && o->setting == key.setting && o->method == key.method && matches_column(*o, *col.spec))
          cell_obs.push_back(o);
      row.cells[i] = want == Source::ours ? ours_cell(cell_obs, *col.spec, notes) : paper_cell(cell_obs, *col.spec, notes);
    }
    fill_aggregates(spec, table, row);
    for (size_t i = 0; i < table.columns.size(); ++i)
      if (table.columns[i].part == Part::delta) row.cells[i] = delta_cell(row.cells[i - 2], row.cells[i - 1], notes);
    table.rows.push_back(std::move(row));
  }
  rank_table(table, z_critical);
  table.comparisons = compare_sources(spec, obs);
  return table;
}

std::string value_text(const Cell& cell, int64_t decimals, bool signed_delta) {
  if (!cell.present) return "";
  if (!cell.printed.empty()) return cell.printed;
  if (std::isnan(cell.value)) return "NaN";
  if (std::isinf(cell.value)) return cell.value > 0 ? "inf" : "-inf";
  char text[64];
  const double magnitude = std::fabs(cell.value);
  if (magnitude >= 1e5) {
    std::snprintf(text, sizeof text, "%.1e", cell.value);  // "1.1e+05" -> "1.1e5", as the papers print
    std::string s = text;
    const size_t e = s.find('e');
    std::string exponent = s.substr(e + 1);
    const bool negative = exponent[0] == '-';
    exponent.erase(0, 1);
    exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
    return s.substr(0, e) + "e" + (negative ? "-" : "") + exponent;
  }
  const int digits = magnitude >= 1000 ? 0 : int(decimals);
  // A value that rounds to zero prints unsigned ("0.00", never "-0.00" or "+0.00").
  const bool zero = std::round(magnitude * std::pow(10.0, digits)) == 0;
  std::snprintf(text, sizeof text, signed_delta && !zero ? "%+.*f" : "%.*f", digits, zero ? 0.0 : cell.value);
  return text;
}

}  // namespace abq::report

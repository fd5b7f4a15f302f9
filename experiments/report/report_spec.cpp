#include "experiments/report/report_spec.h"

#include <filesystem>
#include <set>

#include "framework/config/diagnostics.h"
#include "framework/config/loader.h"
#include "framework/config/options.h"
#include "framework/config/validate.h"

namespace abq::report {
namespace {

using config::OptionSet;
using config::Schema;

const OptionSet<ColumnSpec>& column_options() {
  static const auto set = OptionSet<ColumnSpec>()
      .field("group", &ColumnSpec::group, Schema::string().optional().doc("upper header (e.g. the model)"))
      .field("label", &ColumnSpec::label, Schema::string().optional().doc("lower header; default: the dataset"))
      .field("model", &ColumnSpec::model, Schema::string().optional().doc("model of the cells; empty: any"))
      .field("metric", &ColumnSpec::metric, Schema::string().doc("stored metric (ppl, acc, acc_norm, ...)"))
      .field("dataset", &ColumnSpec::dataset, Schema::string().optional().doc("dataset or task of the metric"))
      .field("paper_metric", &ColumnSpec::paper_metric,
             Schema::string().optional().doc("metric of reference entries; default: accuracy_pct for acc / acc_norm, else metric"))
      .field("protocol", &ColumnSpec::protocol,
             Schema::string().optional().doc("expected protocol name (before '@'); other protocols are flagged"))
      .field("better", &ColumnSpec::better, Schema::string().optional().doc("lower | higher; empty: from the metric"))
      .field("decimals", &ColumnSpec::decimals, Schema::integer().range(0, 6).doc("digits after the point"))
      .rule("better is lower, higher or empty", [](const ColumnSpec& c, std::vector<config::RuleProblem>& p) {
        if (!c.better.empty() && c.better != "lower" && c.better != "higher")
          p.push_back({{"better"}, "better must be lower or higher, got '" + c.better + "'", ""});
      });
  return set;
}

const OptionSet<TableSpec>& table_options() {
  static const auto set = OptionSet<TableSpec>()
      .field("name", &TableSpec::name, Schema::string().doc("file stem of this table's outputs"))
      .field("caption", &TableSpec::caption, Schema::string().optional().doc("caption"))
      .enumeration("group_by", &TableSpec::group_by, {{"setting", "setting"}, {"none", "none"}},
                   "the multirow column: rows grouped by setting, or not grouped")
      .enumeration("sources", &TableSpec::sources, {{"both", "both"}, {"ours", "ours"}, {"paper", "paper"}},
                   "which rows: stored runs, reference entries, or both")
      .field("compare", &TableSpec::compare, Schema::boolean().doc("every column as paper / ours / delta"));
  return set;
}

const OptionSet<GateSpec>& gate_options() {
  static const auto set = OptionSet<GateSpec>()
      .field("metric", &GateSpec::metric, Schema::string().required().doc("stored metric the tolerance applies to"))
      .field("relative", &GateSpec::relative, Schema::number().min(0).optional().doc("allowed |ours - paper| / |paper|"))
      .field("absolute", &GateSpec::absolute, Schema::number().min(0).optional().doc("allowed |ours - paper| (report units)"))
      .rule("exactly one of relative, absolute", [](const GateSpec& g, std::vector<config::RuleProblem>& p) {
        if (std::isnan(g.relative) == std::isnan(g.absolute))
          p.push_back({{}, "gate for " + g.metric + " needs exactly one of relative, absolute", ""});
      });
  return set;
}

const OptionSet<RunNaming>& naming_options() {
  static const auto set = OptionSet<RunNaming>()
      .field("match", &RunNaming::match, Schema::string().doc("glob over run names"))
      .field("experiment", &RunNaming::experiment, Schema::string().doc("glob over experiment names"))
      .field("model", &RunNaming::model, Schema::string().optional().doc("model name the run's cells carry"))
      .field("method", &RunNaming::method, Schema::string().optional().doc("method name (the row); empty: the run name"));
  return set;
}

const OptionSet<ReportSpec>& spec_options() {
  static const auto set = OptionSet<ReportSpec>()
      .field("title", &ReportSpec::title, Schema::string().doc("report title"))
      .field("z_critical", &ReportSpec::z_critical,
             Schema::number().min(0).doc("ties for best: |a - b| / sqrt(sa^2 + sb^2) below this (1.96: 5 %, two-sided)"))
      .enumeration("on_protocol_mismatch", &ReportSpec::on_protocol_mismatch, {{"fail", "fail"}, {"skip", "skip"}},
                   "a gated pair under different protocols fails the check, or is listed and skipped");
  return set;
}

Schema strings() { return Schema::list(Schema::string()); }

Schema column_schema() {
  Schema s = column_options().schema();
  s.add("mean_of", strings().optional().doc("aggregate column: the mean of these columns (labels, same group)"));
  return s;
}

Schema table_schema() {
  Schema s = table_options().schema();
  s.add("settings", Schema::list(Schema::object({{"id", Schema::string().required().doc("W4A4KV4")},
                                                 {"label", Schema::string().optional().doc("as printed")}}))
                        .optional().doc("setting order and filter"));
  s.add("methods", strings().optional().doc("method order and filter"));
  s.add("unranked", strings().optional().doc("methods never marked best or second (FP rows)"));
  s.add("columns", Schema::list(column_schema()).min_size(1).required().doc("the columns, left to right"));
  return s;
}

Schema build_schema() {
  Schema s = spec_options().schema();
  s.add("references", strings().optional().doc("reference table files (results/reference/*.yaml), relative to this file"));
  s.add("runs", Schema::list(naming_options().schema()).optional().doc("how stored runs are named: the first matching rule that gives a model (a method) names it"));
  s.add("tables", Schema::list(table_schema()).min_size(1).required().doc("the tables of the report"));
  s.add("gates", Schema::list(gate_options().schema()).optional().doc("tolerances of `abq report --check`"));
  return s;
}

std::vector<std::string> string_list(const YAML::Node& node) {
  std::vector<std::string> out;
  if (node && node.IsSequence())
    for (const auto& item : node) out.push_back(item.as<std::string>());
  return out;
}

TableSpec decode_table(const YAML::Node& node) {
  TableSpec t = table_options().decode(node);
  if (node["settings"] && node["settings"].IsSequence())
    for (const auto& s : node["settings"]) {
      const std::string id = s["id"].as<std::string>();
      t.settings.push_back({id, s["label"] && !s["label"].IsNull() ? s["label"].as<std::string>() : id});
    }
  t.methods = string_list(node["methods"]);
  t.unranked = string_list(node["unranked"]);
  for (const auto& c : node["columns"]) {
    ColumnSpec column = column_options().decode(c);
    column.mean_of = string_list(c["mean_of"]);
    if (column.label.empty()) column.label = column.dataset;
    t.columns.push_back(std::move(column));
  }
  return t;
}

// Cross-table checks the schema cannot state: aggregate columns name columns of their group.
void check_aggregates(const config::Document& doc, const ReportSpec& spec) {
  config::Diagnostics diagnostics(doc);
  for (size_t t = 0; t < spec.tables.size(); ++t) {
    const auto& columns = spec.tables[t].columns;
    for (size_t c = 0; c < columns.size(); ++c) {
      for (size_t k = 0; k < columns[c].mean_of.size(); ++k) {
        const std::string& label = columns[c].mean_of[k];
        bool found = false;
        std::vector<std::string> labels;
        for (const auto& other : columns)
          if (other.group == columns[c].group && other.mean_of.empty()) {
            labels.push_back(other.label);
            found = found || other.label == label;
          }
        if (!found)
          diagnostics.add({"tables", config::index_segment(t), "columns", config::index_segment(c), "mean_of",
                           config::index_segment(k)},
                          false, "no column labelled '" + label + "' in group '" + columns[c].group + "'",
                          config::suggestion_hint(label, labels));
      }
    }
  }
  diagnostics.throw_if_any();
}

}  // namespace

const Schema& report_spec_schema() {
  static const Schema schema = build_schema();
  return schema;
}

ReportSpec load_report_spec(const std::string& path) {
  const config::Document document = config::load_config(path);
  const YAML::Node resolved = config::validate(document, report_spec_schema());
  ReportSpec spec = spec_options().decode(resolved);
  spec.path = path;
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  for (const auto& ref : string_list(resolved["references"]))
    spec.references.push_back((folder / ref).lexically_normal().string());
  if (resolved["runs"])
    for (const auto& r : resolved["runs"]) spec.runs.push_back(naming_options().decode(r));
  for (const auto& t : resolved["tables"]) spec.tables.push_back(decode_table(t));
  if (resolved["gates"])
    for (const auto& g : resolved["gates"]) spec.gates.push_back(gate_options().decode(g));
  check_aggregates(document, spec);
  return spec;
}

ReportSpec default_report_spec(const std::vector<Observation>& ours) {
  ReportSpec spec;
  TableSpec table;
  table.name = "runs";
  table.caption = "Every complete run (rows), its headline metrics (columns)";
  table.group_by = "none";
  table.sources = "ours";
  table.unranked = {"fp"};
  // The headline metrics, as the run summary prints them.
  static const std::set<std::string> headline = {"ppl", "acc", "acc_norm", "kl_mean", "top1_agreement"};
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& o : ours) {
    if (!headline.count(o.metric) || !seen.insert({o.metric, o.dataset}).second) continue;
    ColumnSpec column;
    column.label = o.metric + " " + o.dataset;
    column.metric = o.metric;
    column.dataset = o.dataset;
    column.protocol = protocol_name(o.protocol);
    column.decimals = o.metric == "ppl" ? 3 : o.metric == "kl_mean" ? 5 : 2;
    table.columns.push_back(std::move(column));
  }
  spec.tables.push_back(std::move(table));
  return spec;
}

bool column_lower_is_better(const ColumnSpec& column) {
  if (column.better == "lower") return true;
  if (column.better == "higher") return false;
  return lower_is_better(column.metric);
}

std::string column_paper_metric(const ColumnSpec& column) {
  if (!column.paper_metric.empty()) return column.paper_metric;
  if (column.metric == "acc" || column.metric == "acc_norm") return "accuracy_pct";
  return column.metric;
}

}  // namespace abq::report

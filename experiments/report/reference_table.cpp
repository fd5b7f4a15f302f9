#include "experiments/report/reference_table.h"

#include "framework/config/loader.h"
#include "framework/config/schema.h"
#include "framework/config/validate.h"

namespace abq::report {
namespace {

using config::Schema;

Schema entry_schema() {
  auto text = [](const char* doc) { return Schema::string().required().doc(doc); };
  auto optional_text = [](const char* doc) { return Schema::string().optional().doc(doc); };
  auto bits = [](const char* doc) { return Schema::integer().range(1, 32).optional().doc(doc); };
  return Schema::object({
      {"model", text("model as the paper names it (LLaMA-7B)")},
      {"method", text("method as printed")},
      {"setting", text("setting as printed (W4A16, W2*A8, FP16)")},
      {"w_bits", bits("weight bits; absent when the setting is no WxAy text")},
      {"a_bits", bits("activation bits")},
      {"kv_bits", bits("Q/K/V bits; absent when the source does not say")},
      {"group_size", Schema::integer().min(0).optional().doc("weight group size, 0 = per channel")},
      {"bit_balance", Schema::boolean().optional().doc("W2*: the 5-level 2-bit grid")},
      {"dataset", text("dataset or task")},
      {"protocol", optional_text("protocol id (evaluation-protocols.md §8)")},
      {"metric", text("ppl, accuracy_pct, ...")},
      {"value", Schema::number().required().doc("the number (.nan for a printed NAN)")},
      {"printed", optional_text("the text as printed when it is no plain decimal")},
      {"paper_value", Schema::number().optional().doc("re-runs: the paper number compared against")},
      {"baseline", optional_text("what a ratio is relative to")},
      {"hardware", optional_text("the machine a cost was measured on")},
      {"unit", optional_text("unit of a cost")},
      {"source", text("citation")},
      {"note", optional_text("remark")},
  });
}

Schema table_schema() {
  auto optional_text = [](const char* doc) { return Schema::string().optional().doc(doc); };
  return Schema::object({
      {"table", Schema::string().required().doc("table id")},
      {"paper", Schema::string().required().doc("paper (or 'various')")},
      {"paper_table", Schema::string().required().doc("the table as the paper names it")},
      {"kv_rule", optional_text("how kv_bits follow from a setting without KV")},
      {"note", optional_text("table note")},
      {"gpu", optional_text("GPU of a speed figure")},
      {"tolerance", optional_text("reading tolerance of a figure")},
      {"shape_note", optional_text("GEMM shape labels")},
      {"weights", optional_text("weights used for a speed figure")},
      {"entries", Schema::list(entry_schema()).min_size(1).required()},
  });
}

std::string text_of(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  return value && !value.IsNull() ? value.as<std::string>() : std::string();
}

std::optional<int> bits_of(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  if (!value || value.IsNull()) return std::nullopt;
  return value.as<int>();
}

double number_of(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  return value && !value.IsNull() ? value.as<double>() : NAN;
}

ReferenceEntry decode_entry(const YAML::Node& e) {
  ReferenceEntry r;
  r.model = text_of(e, "model");
  r.method = text_of(e, "method");
  r.setting = text_of(e, "setting");
  r.w_bits = bits_of(e, "w_bits");
  r.a_bits = bits_of(e, "a_bits");
  r.kv_bits = bits_of(e, "kv_bits");
  if (e["group_size"] && !e["group_size"].IsNull()) r.group_size = e["group_size"].as<int64_t>();
  if (e["bit_balance"] && !e["bit_balance"].IsNull()) r.bit_balance = e["bit_balance"].as<bool>();
  r.dataset = text_of(e, "dataset");
  r.protocol = text_of(e, "protocol");
  r.metric = text_of(e, "metric");
  r.value = number_of(e, "value");
  r.printed = text_of(e, "printed");
  r.paper_value = number_of(e, "paper_value");
  r.baseline = text_of(e, "baseline");
  r.hardware = text_of(e, "hardware");
  r.unit = text_of(e, "unit");
  r.source = text_of(e, "source");
  r.note = text_of(e, "note");
  return r;
}

}  // namespace

std::string setting_id(int w_bits, int a_bits, int kv_bits, int64_t group_size, bool bit_balance) {
  std::string id = "W" + std::to_string(w_bits) + "A" + std::to_string(a_bits) + "KV" + std::to_string(kv_bits);
  if (group_size > 0) id += "g" + std::to_string(group_size);
  if (bit_balance) id += "*";
  return id;
}

std::string ReferenceEntry::setting_id() const {
  if (!w_bits || !a_bits || !kv_bits) return "";
  return report::setting_id(*w_bits, *a_bits, *kv_bits, group_size, bit_balance);
}

ReferenceTable load_reference_table(const std::string& path) {
  const config::Document document = config::load_config(path);
  const YAML::Node resolved = config::validate(document, table_schema());
  ReferenceTable table;
  table.path = path;
  table.id = text_of(resolved, "table");
  table.paper = text_of(resolved, "paper");
  table.paper_table = text_of(resolved, "paper_table");
  table.note = text_of(resolved, "note");
  for (const auto& e : resolved["entries"]) table.entries.push_back(decode_entry(e));
  return table;
}

}  // namespace abq::report

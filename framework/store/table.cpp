#include "framework/store/table.h"

#include "framework/core/error.h"

namespace abq::store {

const char* column_type_name(ColumnType type) {
  switch (type) {
    case ColumnType::string: return "string";
    case ColumnType::f64: return "f64";
    case ColumnType::i64: return "i64";
    case ColumnType::i32: return "i32";
  }
  return "?";
}

size_t Column::size() const {
  return std::visit([](const auto& v) { return v.size(); }, values);
}

Table& Table::add_strings(const std::string& name, std::vector<std::string> values) {
  add(Column{name, std::move(values)});
  return *this;
}
Table& Table::add_f64(const std::string& name, std::vector<double> values) {
  add(Column{name, std::move(values)});
  return *this;
}
Table& Table::add_i64(const std::string& name, std::vector<int64_t> values) {
  add(Column{name, std::move(values)});
  return *this;
}
Table& Table::add_i32(const std::string& name, std::vector<int32_t> values) {
  add(Column{name, std::move(values)});
  return *this;
}

void Table::add(Column column) {
  if (column.name.empty()) throw Error("table column names must not be empty");
  if (find(column.name) != nullptr) throw Error(cat("duplicate table column '", column.name, "'"));
  if (!columns_.empty() && column.size() != rows()) {
    throw Error(cat("table column '", column.name, "' has ", column.size(), " rows; expected ", rows(),
                    " like column '", columns_.front().name, "'"));
  }
  columns_.push_back(std::move(column));
}

const Column* Table::find(const std::string& name) const {
  for (const auto& column : columns_) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

const Column& Table::typed(const std::string& name, ColumnType type) const {
  const Column* column = find(name);
  if (column == nullptr) {
    std::string present;
    for (const auto& c : columns_) present += (present.empty() ? "" : ", ") + c.name;
    throw Error(cat("table has no column '", name, "' (columns: ", present.empty() ? "none" : present, ")"));
  }
  if (column->type() != type) {
    throw Error(cat("table column '", name, "' has type ", column_type_name(column->type()), "; expected ",
                    column_type_name(type)));
  }
  return *column;
}

const std::vector<std::string>& Table::strings(const std::string& name) const {
  return std::get<std::vector<std::string>>(typed(name, ColumnType::string).values);
}
const std::vector<double>& Table::f64(const std::string& name) const {
  return std::get<std::vector<double>>(typed(name, ColumnType::f64).values);
}
const std::vector<int64_t>& Table::i64(const std::string& name) const {
  return std::get<std::vector<int64_t>>(typed(name, ColumnType::i64).values);
}
const std::vector<int32_t>& Table::i32(const std::string& name) const {
  return std::get<std::vector<int32_t>>(typed(name, ColumnType::i32).values);
}

}  // namespace abq::store

// Table: a set of equally long named columns (string / f64 / i64 / i32), the one shape every
// HDF5 table in the results store has (metrics, sites, timings, per-example records ...).
// Pure C++: hdf5_io.h turns a Table into a compound dataset and back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace abq::store {

enum class ColumnType { string, f64, i64, i32 };

/// "string", "f64", "i64" or "i32" (used in error messages and docs).
const char* column_type_name(ColumnType type);

struct Column {
  std::string name;
  std::variant<std::vector<std::string>, std::vector<double>, std::vector<int64_t>, std::vector<int32_t>>
      values;

  ColumnType type() const { return static_cast<ColumnType>(values.index()); }
  size_t size() const;
};

class Table {
 public:
  /// Each add_* appends a column; throws abq::Error on an empty or duplicate name or when the
  /// length differs from the columns already present.
  Table& add_strings(const std::string& name, std::vector<std::string> values);
  Table& add_f64(const std::string& name, std::vector<double> values);
  Table& add_i64(const std::string& name, std::vector<int64_t> values);
  Table& add_i32(const std::string& name, std::vector<int32_t> values);

  /// Rows = length of every column; 0 for a table without columns.
  size_t rows() const { return columns_.empty() ? 0 : columns_.front().size(); }
  const std::vector<Column>& columns() const { return columns_; }
  /// nullptr when there is no column of that name.
  const Column* find(const std::string& name) const;

  /// Typed column access; throws abq::Error naming the column when it is missing or has
  /// another type.
  const std::vector<std::string>& strings(const std::string& name) const;
  const std::vector<double>& f64(const std::string& name) const;
  const std::vector<int64_t>& i64(const std::string& name) const;
  const std::vector<int32_t>& i32(const std::string& name) const;

 private:
  void add(Column column);
  const Column& typed(const std::string& name, ColumnType type) const;

  std::vector<Column> columns_;
};

}  // namespace abq::store

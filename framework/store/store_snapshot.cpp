#include "framework/store/store_snapshot.h"

#include <cstring>
#include <type_traits>

#include "framework/core/error.h"

namespace abq::store {
namespace {

// The encoding: fixed-width little-endian integers as the host holds them (both ends are the
// same binary), strings and vectors as a u64 count followed by their elements.
constexpr char kMagic[] = "abq-store-snapshot v1";

class Writer {
 public:
  template <typename T>
  void scalar(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof(value));
  }
  void text(const std::string& value) {
    scalar<uint64_t>(value.size());
    out_ += value;
  }
  void texts(const std::map<std::string, std::string>& values) {
    scalar<uint64_t>(values.size());
    for (const auto& [key, value] : values) {
      text(key);
      text(value);
    }
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}

  template <typename T>
  T scalar(const char* what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  // A count of elements that each take at least `min_bytes`: bounded by what is left, so a
  // damaged count cannot make the reader allocate more than the answer's size.
  size_t count(const char* what, size_t min_bytes) {
    const auto n = scalar<uint64_t>(what);
    if (n > (bytes_.size() - at_) / min_bytes) fail(cat(what, " count ", n, " exceeds the bytes left"));
    return static_cast<size_t>(n);
  }
  std::string text(const char* what) {
    const size_t n = count(what, 1);
    std::string value = bytes_.substr(at_, n);
    at_ += n;
    return value;
  }
  std::map<std::string, std::string> texts(const char* what) {
    std::map<std::string, std::string> values;
    for (size_t i = 0, n = count(what, 16); i < n; ++i) {
      std::string key = text(what);
      values[key] = text(what);
    }
    return values;
  }
  bool at_end() const { return at_ == bytes_.size(); }
  [[noreturn]] void fail(const std::string& why) const {
    throw Error(cat("malformed store snapshot: ", why, " (at byte ", at_, " of ", bytes_.size(), ")"));
  }

 private:
  void need(size_t n, const char* what) {
    if (bytes_.size() - at_ < n) fail(cat("it ends inside ", what));
  }

  const std::string& bytes_;
  size_t at_ = 0;
};

void write_table(Writer& out, const Table& table) {
  out.scalar<uint64_t>(table.columns().size());
  for (const Column& column : table.columns()) {
    out.text(column.name);
    out.scalar<uint8_t>(static_cast<uint8_t>(column.type()));
    std::visit(
        [&](const auto& values) {
          out.scalar<uint64_t>(values.size());
          for (const auto& value : values) {
            if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::string>) {
              out.text(value);
            } else {
              out.scalar(value);
            }
          }
        },
        column.values);
  }
}

template <typename T>
std::vector<T> read_values(Reader& in, const char* what) {
  std::vector<T> values(in.count(what, sizeof(T)));
  for (T& value : values) value = in.scalar<T>(what);
  return values;
}

Table read_table(Reader& in) {
  Table table;
  for (size_t c = 0, n = in.count("table columns", 10); c < n; ++c) {
    const std::string name = in.text("column name");
    const auto type = in.scalar<uint8_t>("column type");
    switch (static_cast<ColumnType>(type)) {
      case ColumnType::string: {
        std::vector<std::string> values(in.count("string column", 8));
        for (std::string& value : values) value = in.text("string value");
        table.add_strings(name, std::move(values));
        break;
      }
      case ColumnType::f64: table.add_f64(name, read_values<double>(in, "f64 column")); break;
      case ColumnType::i64: table.add_i64(name, read_values<int64_t>(in, "i64 column")); break;
      case ColumnType::i32: table.add_i32(name, read_values<int32_t>(in, "i32 column")); break;
      default: in.fail(cat("column '", name, "' has type code ", int(type)));
    }
  }
  return table;
}

void write_record(Writer& out, const RunRecord& record) {
  out.text(record.run_id);
  out.texts(record.attributes);
  out.text(run_status_name(record.status));
  write_table(out, to_table(record.metrics));
  write_table(out, to_table(record.sites));
  write_table(out, to_table(record.timings));
  out.scalar<uint64_t>(record.tables.size());
  for (const auto& [name, table] : record.tables) {
    out.text(name);
    write_table(out, table);
  }
}

RunRecord read_record(Reader& in) {
  RunRecord record;
  record.run_id = in.text("run id");
  record.attributes = in.texts("run attributes");
  record.status = parse_run_status(in.text("run status"));
  record.metrics = metric_rows(read_table(in));
  record.sites = site_rows(read_table(in));
  record.timings = timing_rows(read_table(in));
  for (size_t i = 0, n = in.count("extra tables", 16); i < n; ++i) {
    std::string name = in.text("table name");
    record.tables.emplace(std::move(name), read_table(in));
  }
  return record;
}

}  // namespace

std::string encode_snapshot(const StoreSnapshot& snapshot) {
  Writer out;
  out.text(kMagic);
  out.scalar<uint8_t>(snapshot.schema_version.has_value());
  out.scalar<int64_t>(snapshot.schema_version.value_or(0));
  out.texts(snapshot.root_attributes);
  out.scalar<uint8_t>(snapshot.has_runs_group);
  out.scalar<uint64_t>(snapshot.runs.size());
  for (const RunRecord& record : snapshot.runs) write_record(out, record);
  out.scalar<uint64_t>(snapshot.unreadable.size());
  for (const UnreadableRun& run : snapshot.unreadable) {
    out.text(run.run_id);
    out.scalar<uint8_t>(run.status.has_value());
    out.text(run.status.value_or(""));
    out.text(run.problem);
    out.text(run.read_error);
  }
  return std::move(out.bytes());
}

StoreSnapshot decode_snapshot(const std::string& bytes) {
  Reader in(bytes);
  if (in.text("header") != kMagic) in.fail("it does not start with the snapshot header");
  StoreSnapshot snapshot;
  const bool has_version = in.scalar<uint8_t>("schema version flag") != 0;
  const auto version = in.scalar<int64_t>("schema version");
  if (has_version) snapshot.schema_version = version;
  snapshot.root_attributes = in.texts("root attributes");
  snapshot.has_runs_group = in.scalar<uint8_t>("runs group flag") != 0;
  try {
    for (size_t i = 0, n = in.count("runs", 40); i < n; ++i) snapshot.runs.push_back(read_record(in));
  } catch (const Error& e) {
    if (std::string(e.what()).rfind("malformed store snapshot", 0) == 0) throw;
    in.fail(cat("a run's values do not form a record (", e.what(), ")"));
  }
  for (size_t i = 0, n = in.count("unreadable runs", 33); i < n; ++i) {
    UnreadableRun run;
    run.run_id = in.text("run id");
    const bool has_status = in.scalar<uint8_t>("status flag") != 0;
    std::string status = in.text("status");
    if (has_status) run.status = std::move(status);
    run.problem = in.text("problem");
    run.read_error = in.text("read error");
    snapshot.unreadable.push_back(std::move(run));
  }
  if (!in.at_end()) in.fail("bytes follow the last run");
  return snapshot;
}

}  // namespace abq::store

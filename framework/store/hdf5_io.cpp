#include "framework/store/hdf5_io.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

namespace abq::store::h5 {
namespace {

thread_local std::string last_error_stack;

herr_t collect_frame(unsigned n, const H5E_error2_t* frame, void* client) {
  auto* frames = static_cast<std::vector<std::string>*>(client);
  std::string text = frame->desc != nullptr ? frame->desc : "";
  char minor[256] = {0};
  if (H5Eget_msg(frame->min_num, nullptr, minor, sizeof(minor)) > 0 && std::strlen(minor) > 0) {
    text += text.empty() ? minor : cat(" (", minor, ")");
  }
  text.erase(std::remove(text.begin(), text.end(), '\n'), text.end());  // some carry line breaks
  if (!text.empty()) frames->push_back(text);
  return 0;
}

// Runs inside the failing HDF5 call, before the C++ wrapper throws and before stack unwinding
// (whose H5Idec_ref calls would clear the error stack).
herr_t remember_stack(hid_t stack, void*) {
  std::vector<std::string> frames;
  H5Ewalk2(stack, H5E_WALK_DOWNWARD, collect_frame, &frames);
  if (frames.empty()) {
    last_error_stack.clear();
  } else if (frames.size() == 1) {
    last_error_stack = frames.front();
  } else {
    last_error_stack = frames.front() + ": " + frames.back();
  }
  return 0;
}

// Offset of the first byte that breaks well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF) or is a NUL (an HDF5 string ends there, so the rest would be
// lost without a word); npos when the text is fine.
size_t first_bad_utf8_byte(const char* text, size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(text);
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c == 0) return i;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) low = 0xA0;   // overlong
      if (c == 0xED) high = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) low = 0x90;   // overlong
      if (c == 0xF4) high = 0x8F;  // past U+10FFFF
    } else {
      return i;
    }
    if (i + extra >= n) return i;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      const unsigned char lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
      if (p[i + k] < lo || p[i + k] > hi) return i;
    }
    i += extra + 1;
  }
  return std::string::npos;
}

}  // namespace

void check_utf8(const std::string& text, const std::string& what) {
  const size_t bad = first_bad_utf8_byte(text.data(), text.size());
  if (bad == std::string::npos) return;
  const unsigned byte = static_cast<unsigned char>(text[bad]);
  char hex[8];
  std::snprintf(hex, sizeof(hex), "0x%02x", byte);
  throw Error(cat(what, " is not valid UTF-8: ", byte == 0 ? "a NUL byte" : cat("byte ", hex), " at offset ", bad,
                  "; results store strings are UTF-8 (Python readers decode them), so fix the source text",
                  byte == 0 ? "" : " or re-encode it as UTF-8"));
}

std::string escape_invalid_utf8(const std::string& text) {
  std::string out;
  size_t from = 0;
  while (from < text.size()) {
    const size_t bad = first_bad_utf8_byte(text.data() + from, text.size() - from);
    if (bad == std::string::npos) break;
    out.append(text, from, bad);
    char hex[8];
    std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(text[from + bad]));
    out += hex;
    from += bad + 1;
  }
  out.append(text, from, std::string::npos);
  return out;
}

namespace {

H5::StrType vlen_utf8() {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  return type;
}

}  // namespace

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

void install_error_handler() { H5Eset_auto2(H5E_DEFAULT, remember_stack, nullptr); }

Error hdf5_error(const std::string& what, const H5::Exception& e) {
  std::string detail = last_error_stack.empty() ? e.getDetailMsg() : last_error_stack;
  last_error_stack.clear();
  return Error(cat(what, ": HDF5: ", detail));
}

Error hdf5_error(const std::string& what) {
  std::string detail = last_error_stack.empty() ? "unknown error" : last_error_stack;
  last_error_stack.clear();
  return Error(cat(what, ": HDF5: ", detail));
}

H5::FileAccPropList file_access() {
  H5::FileAccPropList fapl;
#if H5_VERSION_GE(1, 10, 7)
  H5Pset_file_locking(fapl.getId(), false, true);
#endif
  return fapl;
}

void remove_attr(H5::H5Object& object, const std::string& name) {
  if (object.attrExists(name)) object.removeAttr(name);
}

void write_string_attr(H5::H5Object& object, const std::string& name, const std::string& value) {
  check_utf8(name, "attribute name '" + name + "'");
  check_utf8(value, "the value of attribute '" + name + "'");
  remove_attr(object, name);
  H5::StrType type = vlen_utf8();
  H5::Attribute attr = object.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  const char* text = value.c_str();
  attr.write(type, &text);
}

std::optional<std::string> read_string_attr(const H5::H5Object& object, const std::string& name) {
  if (!object.attrExists(name)) return std::nullopt;
  H5::Attribute attr = object.openAttribute(name);
  if (attr.getTypeClass() != H5T_STRING) {
    throw Error(cat("attribute '", name, "' is not a string"));
  }
  std::string value;
  attr.read(attr.getStrType(), value);
  return value;
}

std::map<std::string, std::string> read_attrs_as_strings(const H5::H5Object& object) {
  std::map<std::string, std::string> attrs;
  const int count = object.getNumAttrs();
  for (int i = 0; i < count; ++i) {
    H5::Attribute attr = object.openAttribute(static_cast<unsigned>(i));
    const std::string name = attr.getName();
    const H5T_class_t type_class = attr.getTypeClass();
    if (attr.getSpace().getSimpleExtentNpoints() != 1) {
      throw Error(cat("attribute '", name, "' is not a scalar"));
    }
    if (type_class == H5T_STRING) {
      std::string value;
      attr.read(attr.getStrType(), value);
      attrs[name] = value;
    } else if (type_class == H5T_INTEGER) {
      long long value = 0;
      attr.read(H5::PredType::NATIVE_LLONG, &value);
      attrs[name] = std::to_string(value);
    } else if (type_class == H5T_FLOAT) {
      double value = 0;
      attr.read(H5::PredType::NATIVE_DOUBLE, &value);
      attrs[name] = cat(value);
    } else {
      throw Error(cat("attribute '", name, "' has an unsupported type; expected a string or number"));
    }
  }
  return attrs;
}

void write_int_attr(H5::H5Object& object, const std::string& name, int64_t value) {
  remove_attr(object, name);
  const int32_t narrow = static_cast<int32_t>(value);
  ABQ_ASSERT(narrow == value, "integer attribute ", name, " out of int32 range");
  H5::Attribute attr = object.createAttribute(name, H5::PredType::STD_I32LE, H5::DataSpace(H5S_SCALAR));
  attr.write(H5::PredType::NATIVE_INT32, &narrow);
}

std::optional<int64_t> read_int_attr(const H5::H5Object& object, const std::string& name) {
  if (!object.attrExists(name)) return std::nullopt;
  H5::Attribute attr = object.openAttribute(name);
  if (attr.getTypeClass() != H5T_INTEGER || attr.getSpace().getSimpleExtentNpoints() != 1) {
    throw Error(cat("attribute '", name, "' is not an integer scalar"));
  }
  int64_t value = 0;
  attr.read(H5::PredType::NATIVE_INT64, &value);
  return value;
}

// In-memory row layout: every member gets an 8-byte-aligned slot (char* for vlen strings, a
// fixed char[n] rounded up for fixed strings), so one loop fills and drains all column types.
namespace {

size_t align8(size_t n) { return (n + 7) / 8 * 8; }

// Transfer properties sized to the table: HDF5's default conversion buffer is 1 MiB, allocated and
// cleared on every read/write, which dominates the cost of the small tables a run holds.
H5::DSetMemXferPropList transfer_for(size_t rows, size_t element_bytes) {
  H5::DSetMemXferPropList transfer;
  const size_t bytes = std::min<size_t>(std::max<size_t>(rows * element_bytes, 4096), size_t(1) << 20);
  transfer.setBuffer(bytes, nullptr, nullptr);
  return transfer;
}

}  // namespace

void write_table(H5::Group& group, const std::string& name, const Table& table) {
  const auto& columns = table.columns();
  if (columns.empty()) throw Error(cat("table '", name, "' has no columns"));
  const size_t rows = table.rows();
  check_utf8(name, "table name '" + name + "'");
  for (const auto& column : columns) {
    check_utf8(column.name, cat("the name of column '", column.name, "' of table '", name, "'"));
    if (const auto* texts = std::get_if<std::vector<std::string>>(&column.values)) {
      for (size_t r = 0; r < texts->size(); ++r) {
        check_utf8((*texts)[r], cat("table '", name, "' column '", column.name, "' row ", r));
      }
    }
  }
  const size_t row_bytes = 8 * columns.size();
  H5::CompType memory_type(row_bytes);
  H5::StrType string_type = vlen_utf8();
  for (size_t c = 0; c < columns.size(); ++c) {
    const size_t offset = 8 * c;
    switch (columns[c].type()) {
      case ColumnType::string: memory_type.insertMember(columns[c].name, offset, string_type); break;
      case ColumnType::f64: memory_type.insertMember(columns[c].name, offset, H5::PredType::NATIVE_DOUBLE); break;
      case ColumnType::i64: memory_type.insertMember(columns[c].name, offset, H5::PredType::NATIVE_INT64); break;
      case ColumnType::i32: memory_type.insertMember(columns[c].name, offset, H5::PredType::NATIVE_INT32); break;
    }
  }
  std::vector<unsigned char> buffer(std::max<size_t>(rows * row_bytes, 1));
  for (size_t c = 0; c < columns.size(); ++c) {
    std::visit(
        [&](const auto& values) {
          using T = typename std::decay_t<decltype(values)>::value_type;
          for (size_t r = 0; r < rows; ++r) {
            unsigned char* slot = buffer.data() + r * row_bytes + 8 * c;
            if constexpr (std::is_same_v<T, std::string>) {
              const char* text = values[r].c_str();  // the Table outlives the write
              std::memcpy(slot, &text, sizeof(text));
            } else {
              std::memcpy(slot, &values[r], sizeof(T));
            }
          }
        },
        columns[c].values);
  }
  // The file keeps the members packed. (CompType's copy constructor shares the HDF5 id, so an
  // explicit copy() is needed to leave memory_type's layout alone.)
  H5::CompType file_type;
  file_type.copy(memory_type);
  file_type.pack();
  if (group.nameExists(name)) group.unlink(name);
  hsize_t dims[1] = {rows};
  H5::DataSpace space(1, dims);
  H5::DataSet dataset = group.createDataSet(name, file_type, space);
  if (rows > 0) {
    dataset.write(buffer.data(), memory_type, H5::DataSpace::ALL, H5::DataSpace::ALL,
                  transfer_for(rows, std::max(row_bytes, file_type.getSize())));
  }
}

Table read_table(const H5::Group& group, const std::string& name) {
  H5::DataSet dataset = group.openDataSet(name);
  if (dataset.getTypeClass() != H5T_COMPOUND) {
    throw Error(cat("dataset '", name, "' is not a compound table"));
  }
  H5::DataSpace space = dataset.getSpace();
  if (space.getSimpleExtentNdims() != 1) {
    throw Error(cat("dataset '", name, "' has ", space.getSimpleExtentNdims(), " dimensions; expected 1"));
  }
  const size_t rows = static_cast<size_t>(space.getSimpleExtentNpoints());
  H5::CompType file_type = dataset.getCompType();
  const int members = file_type.getNmembers();

  struct Slot {
    std::string name;
    ColumnType type;
    size_t offset;
    size_t fixed_length;  // 0 for vlen strings and numbers
  };
  std::vector<Slot> slots;
  std::vector<H5::DataType> member_types;  // memory type of each slot
  size_t row_bytes = 0;
  for (int m = 0; m < members; ++m) {
    Slot slot{file_type.getMemberName(m), ColumnType::f64, row_bytes, 0};
    const H5T_class_t member_class = file_type.getMemberClass(m);
    if (member_class == H5T_STRING) {
      H5::StrType file_string = file_type.getMemberStrType(m);
      slot.type = ColumnType::string;
      if (file_string.isVariableStr()) {
        member_types.push_back(vlen_utf8());
        row_bytes += 8;
      } else {
        slot.fixed_length = file_string.getSize();
        H5::StrType fixed(H5::PredType::C_S1, slot.fixed_length);
        fixed.setCset(file_string.getCset());
        member_types.push_back(fixed);
        row_bytes += align8(slot.fixed_length);
      }
    } else if (member_class == H5T_FLOAT) {
      member_types.push_back(H5::PredType::NATIVE_DOUBLE);
      row_bytes += 8;
    } else if (member_class == H5T_INTEGER) {
      const bool wide = file_type.getMemberIntType(m).getSize() > 4;
      slot.type = wide ? ColumnType::i64 : ColumnType::i32;
      member_types.push_back(wide ? H5::PredType::NATIVE_INT64 : H5::PredType::NATIVE_INT32);
      row_bytes += 8;
    } else {
      throw Error(cat("table '", name, "' column '", slot.name,
                      "' has an unsupported type; expected a string, float or integer"));
    }
    slots.push_back(slot);
  }
  if (slots.empty()) throw Error(cat("table '", name, "' has no columns"));

  H5::CompType memory_type(row_bytes);
  for (size_t s = 0; s < slots.size(); ++s) memory_type.insertMember(slots[s].name, slots[s].offset, member_types[s]);
  std::vector<unsigned char> buffer(std::max<size_t>(rows * row_bytes, 1), 0);
  if (rows > 0) {
    dataset.read(buffer.data(), memory_type, H5::DataSpace::ALL, H5::DataSpace::ALL,
                 transfer_for(rows, std::max(row_bytes, file_type.getSize())));
  }

  Table table;
  for (const Slot& slot : slots) {
    auto at = [&](size_t r) { return buffer.data() + r * row_bytes + slot.offset; };
    switch (slot.type) {
      case ColumnType::string: {
        std::vector<std::string> values(rows);
        for (size_t r = 0; r < rows; ++r) {
          if (slot.fixed_length > 0) {
            const char* text = reinterpret_cast<const char*>(at(r));
            values[r].assign(text, strnlen(text, slot.fixed_length));
          } else {
            char* text = nullptr;
            std::memcpy(&text, at(r), sizeof(text));
            if (text != nullptr) values[r] = text;
          }
        }
        table.add_strings(slot.name, std::move(values));
        break;
      }
      case ColumnType::f64: {
        std::vector<double> values(rows);
        for (size_t r = 0; r < rows; ++r) std::memcpy(&values[r], at(r), sizeof(double));
        table.add_f64(slot.name, std::move(values));
        break;
      }
      case ColumnType::i64: {
        std::vector<int64_t> values(rows);
        for (size_t r = 0; r < rows; ++r) std::memcpy(&values[r], at(r), sizeof(int64_t));
        table.add_i64(slot.name, std::move(values));
        break;
      }
      case ColumnType::i32: {
        std::vector<int32_t> values(rows);
        for (size_t r = 0; r < rows; ++r) std::memcpy(&values[r], at(r), sizeof(int32_t));
        table.add_i32(slot.name, std::move(values));
        break;
      }
    }
  }
  if (rows > 0) H5::DataSet::vlenReclaim(buffer.data(), memory_type, space);
  return table;
}

}  // namespace abq::store::h5

// Checked HDF5 access for the results store: error capture, string/int attributes and the one
// generic Table <-> compound-dataset code path that metrics, sites, timings and extra tables share.
// The HDF5 library is serial (not thread-safe): callers hold hdf5_mutex() around every use.
#pragma once

#include <H5Cpp.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "framework/core/error.h"
#include "framework/store/table.h"

namespace abq::store::h5 {

/// Serialises HDF5 calls within this process.
std::recursive_mutex& hdf5_mutex();

/// Replaces HDF5's automatic error-stack printing by a handler that only remembers the last stack
/// (per thread) for hdf5_error(). Idempotent and cheap; called before every store operation.
void install_error_handler();

/// abq::Error "<what>: <HDF5 API message> ... <innermost HDF5 message>" from the last captured stack.
Error hdf5_error(const std::string& what, const H5::Exception& e);
/// The same after a failed HDF5 C call (no exception): "<what>: HDF5: <captured stack>".
Error hdf5_error(const std::string& what);

/// HDF5 file access properties for the store: HDF5's own file locking is switched off, because
/// the store locks `<path>.lock` itself and never writes a file another process reads.
H5::FileAccPropList file_access();

/// Throws abq::Error "<what> is not valid UTF-8: byte 0x.. at offset N ..." for text that is not
/// well-formed UTF-8 or holds a NUL byte (where HDF5 would silently cut the string).
void check_utf8(const std::string& text, const std::string& what);
/// `text` with every byte check_utf8 would refuse written as "\xNN" (for messages that may quote
/// damaged input and must be stored anyway).
std::string escape_invalid_utf8(const std::string& text);

/// Variable-length UTF-8 string attributes (scalar). write replaces an existing attribute; it
/// refuses a name or value that is not valid UTF-8 (check_utf8) before touching the object.
void write_string_attr(H5::H5Object& object, const std::string& name, const std::string& value);
std::optional<std::string> read_string_attr(const H5::H5Object& object, const std::string& name);
/// Every attribute of `object` as text; numeric scalars are formatted, other kinds throw.
std::map<std::string, std::string> read_attrs_as_strings(const H5::H5Object& object);
void remove_attr(H5::H5Object& object, const std::string& name);

void write_int_attr(H5::H5Object& object, const std::string& name, int64_t value);
/// nullopt when missing; throws abq::Error when present but not an integer scalar.
std::optional<int64_t> read_int_attr(const H5::H5Object& object, const std::string& name);

/// Writes `table` as a 1-D compound dataset `name` in `group` (replacing one of that name):
/// strings -> vlen UTF-8, f64 -> IEEE f64, i64 / i32 -> signed 64 / 32-bit. Every string (names
/// included) is checked with check_utf8 before `group` is touched; the error names table, column
/// and row.
void write_table(H5::Group& group, const std::string& name, const Table& table);
/// Reads a 1-D compound dataset back; accepts vlen or fixed strings, any float (-> f64), integers
/// of <= 4 bytes (-> i32) or 8 bytes (-> i64). Throws abq::Error for other member types.
Table read_table(const H5::Group& group, const std::string& name);

}  // namespace abq::store::h5

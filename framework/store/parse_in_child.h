// Runs a parse of untrusted bytes in a forked child first, for the one case the seal cannot cover:
// stores written before seals existed (store_seal.h). HDF5 1.10 can crash or loop forever on a
// damaged file, and neither can be caught in-process; a child that dies or overruns its time
// turns into an abq::Error for the caller, whose own process never runs the parse that failed.
// Limit: a parse that corrupts memory without crashing passes the check, and the caller then
// parses the same bytes; a 10,000-mutant byte-flip run of an unsealed store met such a mutant
// (heap corruption, abort). Only the seal makes reading safe; the next write seals a store.
#pragma once

#include <functional>
#include <string>

namespace abq::store {

/// Runs `parse` in a forked child (which exits at once afterwards) and returns what it returned,
/// or the what() of the exception it threw: empty means the bytes parsed cleanly. The caller
/// never parses bytes its child failed on (a failed HDF5 open can leave state behind). Throws abq::Error "HDF5 crashed parsing it (signal 11, Segmentation fault)" when
/// the child was killed by a signal, "HDF5 did not finish parsing it within <seconds> s" when it
/// ran longer (it is then killed).
std::string parse_in_child(const std::function<std::string()>& parse, double seconds);

}  // namespace abq::store

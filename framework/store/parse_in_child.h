// Runs a parse of untrusted bytes in a forked child, for the one case the seal cannot cover:
// stores written before seals existed (store_seal.h). HDF5 1.10 can crash, loop forever or
// corrupt its memory on a damaged file, and none of these can be caught in-process. The child
// sends back what it read as plain bytes (store_snapshot.h) and exits; a child that dies or
// overruns its time turns into an abq::Error, and the caller's own HDF5 never parses the bytes.
#pragma once

#include <functional>
#include <string>

namespace abq::store {

/// Runs `parse` in a forked child (which exits at once afterwards) and returns the bytes it
/// returned. Throws abq::Error with the what() of the exception `parse` threw, "HDF5 crashed
/// parsing it (signal 11, Segmentation fault)" when the child was killed by a signal, "HDF5 did
/// not finish parsing it within <seconds> s" when it ran longer (it is then killed), and "the
/// process parsing it ended without an answer" when it exited without sending one.
std::string parse_in_child(const std::function<std::string()>& parse, double seconds);

}  // namespace abq::store

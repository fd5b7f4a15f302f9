// The seal of a store file: a fixed-size line appended after the HDF5 bytes,
//
//   "abq-store-seal v1 sha256=<64 lower-case hex> bytes=<20 decimal digits>\n"   (117 bytes)
//
// recording the digest and length of everything before it. HDF5 stops reading at its own end of
// allocation, so h5py and other HDF5 readers see a sealed store as a plain HDF5 file. abq checks
// the seal before HDF5 parses a single byte: HDF5 1.10 trusts its global heap (where
// variable-length strings live, without a checksum of their own) and can crash on one damaged
// byte, so every damaged byte has to be caught here. Stores written before the seal existed have
// none; they are read in a child process only (unsealed_store.h) and sealed by their next write.
#pragma once

#include <string>

#include "framework/core/error.h"

namespace abq::store {

/// The error for a store the checks found damaged (a bad seal, trailing bytes, a malformed run):
/// "results store '<path>' is damaged: <what>. abq neither reads nor extends ...".
Error damaged_store_error(const std::string& display_path, const std::string& what);

/// `hdf5` followed by its seal.
std::string seal_store_bytes(const std::string& hdf5);

struct UnsealedBytes {
  std::string hdf5;     // the HDF5 file image
  bool sealed = false;  // false for a store written before seals existed
};

/// Splits a store file's bytes into the HDF5 image and checks the seal. Throws abq::Error naming
/// `display_path` when a seal is present but malformed or does not match the bytes before it.
UnsealedBytes unseal_store_bytes(std::string bytes, const std::string& display_path);

}  // namespace abq::store

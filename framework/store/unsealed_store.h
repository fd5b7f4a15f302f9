// Reading a store that has no seal (written before seals existed, or edited by another HDF5
// writer; store_seal.h). Nothing vouches for its bytes, so this process never lets HDF5 parse
// them: a forked child reads the whole store (every attribute, run and table) and sends it back
// as a snapshot (store_snapshot.h), and the store is rebuilt in memory from those values. A crash,
// a hang (killed after a time limit) or an HDF5 error in the child becomes a damage error naming
// the file. Writes start from the rebuilt image and seal the result, so a store is read this way
// at most until its next write.
#pragma once

#include <map>
#include <string>

#include "framework/store/memory_file.h"
#include "framework/store/store_snapshot.h"

namespace abq::store {

/// A store opened in memory: its HDF5 image, plus the runs of an unsealed store that could not be
/// read whole (they are absent from the image; always empty for a sealed store).
struct StoreImage {
  h5::MemoryFile image;
  std::map<std::string, UnreadableRun> unreadable;
};

/// How long the child may take to read a store before it is killed.
inline constexpr double kUnsealedReadSeconds = 30;

/// Reads `hdf5` (an unsealed store's bytes) in a child process and rebuilds it as a writable
/// in-memory image. Throws abq::Error (damaged_store_error naming `display_path`) when the child
/// crashes, overruns `seconds`, or HDF5 cannot read the file's structure. Schema checks (version)
/// are left to the caller, which applies them to the rebuilt image as to any other.
StoreImage rebuild_unsealed_store(const std::string& hdf5, const std::string& display_path,
                                  double seconds = kUnsealedReadSeconds);

/// The child's side, run in-process by tests: the snapshot of the store image `hdf5`, encoded.
/// Throws abq::Error when HDF5 cannot open it or read its structure.
std::string read_store_snapshot(const std::string& hdf5);

}  // namespace abq::store

// Provenance of the host and build, stored as run attributes. Pure C++: LibTorch, CUDA, driver and
// device entries are added by the code that links LibTorch.
#pragma once

#include <map>
#include <string>

namespace abq::store {

/// The project version from CMake (PROJECT_VERSION), e.g. "0.1.0".
std::string abq_version();

/// Keys: abq_version, git_sha (12 hex digits, "-dirty" when the tree had local changes at configure
/// time, "unknown" outside git), host, os (uname: system release machine), compiler, hdf5.
std::map<std::string, std::string> host_provenance();

}  // namespace abq::store

#include "framework/store/provenance.h"

#include <H5public.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "framework/core/error.h"

// Both come from framework/store/CMakeLists.txt (git sha taken at configure time).
#ifndef ABQ_VERSION
#error "ABQ_VERSION must be defined by the build"
#endif
#ifndef ABQ_GIT_SHA
#error "ABQ_GIT_SHA must be defined by the build"
#endif

namespace abq::store {

std::string abq_version() { return ABQ_VERSION; }

std::map<std::string, std::string> host_provenance() {
  std::map<std::string, std::string> out;
  out["abq_version"] = ABQ_VERSION;
  out["git_sha"] = ABQ_GIT_SHA;

  char host[256] = {0};
  out["host"] = ::gethostname(host, sizeof(host) - 1) == 0 ? host : "unknown";

  struct utsname uts {};
  out["os"] = ::uname(&uts) == 0 ? cat(uts.sysname, " ", uts.release, " ", uts.machine) : "unknown";

#if defined(__clang__)
  out["compiler"] = cat("clang ", __clang_major__, ".", __clang_minor__, ".", __clang_patchlevel__);
#elif defined(__GNUC__)
  out["compiler"] = cat("gcc ", __GNUC__, ".", __GNUC_MINOR__, ".", __GNUC_PATCHLEVEL__);
#else
  out["compiler"] = "unknown";
#endif

  unsigned major = 0, minor = 0, release = 0;
  out["hdf5"] = H5get_libversion(&major, &minor, &release) >= 0 ? cat(major, ".", minor, ".", release) : "unknown";
  return out;
}

}  // namespace abq::store

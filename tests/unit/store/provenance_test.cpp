// host_provenance: every documented key is present and matches what the OS / HDF5 report
// (uname(2), gethostname(2), H5get_libversion) and the CMake project version.
#include "framework/store/provenance.h"

#include <H5public.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <regex>

namespace abq::store {
namespace {

TEST(Provenance, HasHostBuildAndLibraryEntries) {
  auto p = host_provenance();
  for (const char* key : {"abq_version", "git_sha", "host", "os", "compiler", "hdf5"}) {
    ASSERT_TRUE(p.count(key)) << key;
    EXPECT_FALSE(p[key].empty()) << key;
  }
  EXPECT_EQ(p["abq_version"], abq_version());
  EXPECT_TRUE(std::regex_match(p["abq_version"], std::regex(R"(\d+\.\d+\.\d+)"))) << p["abq_version"];
  EXPECT_TRUE(std::regex_match(p["git_sha"], std::regex(R"([0-9a-f]{12}(-dirty)?|unknown)"))) << p["git_sha"];
  char host[256] = {0};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(p["host"], host);
  struct utsname uts {};
  ASSERT_EQ(uname(&uts), 0);
  EXPECT_EQ(p["os"], std::string(uts.sysname) + " " + uts.release + " " + uts.machine);
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  EXPECT_EQ(p["hdf5"], std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
}

}  // namespace
}  // namespace abq::store

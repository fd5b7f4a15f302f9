#include "framework/store/run_owner.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <sstream>

#include "framework/core/error.h"

namespace abq::store {
namespace {

constexpr const char* kHost = "owner_host";
constexpr const char* kPid = "owner_pid";
constexpr const char* kStart = "owner_process_start";
constexpr const char* const kNames[] = {kHost, kPid, kStart, nullptr};

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Field `wanted` (3: state, 22: starttime in clock ticks after boot) of /proc/<pid>/stat; empty
// when unreadable. The command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
std::string stat_field(long pid, int wanted) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int index = 3; fields >> field; ++index) {
    if (index == wanted) return field;
  }
  return "";
}

std::string start_ticks(long pid) { return stat_field(pid, 22); }

std::string process_start_of(long pid) {
  const std::string boot = first_line("/proc/sys/kernel/random/boot_id");
  const std::string ticks = start_ticks(pid);
  if (boot.empty() || ticks.empty()) return "";
  return boot + "/" + ticks;
}

std::string host_name() {
  char name[256] = {0};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

}  // namespace

RunOwner this_process_owner() {
  RunOwner owner;
  owner.host = host_name();
  owner.pid = static_cast<long>(::getpid());
  owner.process_start = process_start_of(owner.pid);
  return owner;
}

std::map<std::string, std::string> owner_attributes(const RunOwner& owner) {
  return {{kHost, owner.host}, {kPid, std::to_string(owner.pid)}, {kStart, owner.process_start}};
}

std::optional<RunOwner> owner_from_attributes(const std::map<std::string, std::string>& attributes) {
  auto host = attributes.find(kHost);
  auto pid = attributes.find(kPid);
  if (host == attributes.end() || pid == attributes.end()) return std::nullopt;
  RunOwner owner;
  owner.host = host->second;
  try {
    size_t used = 0;
    owner.pid = std::stol(pid->second, &used);
    if (used != pid->second.size() || owner.pid <= 0) throw std::invalid_argument("pid");
  } catch (const std::exception&) {
    throw Error(cat("run attribute '", kPid, "' is '", pid->second, "'; expected a positive process id"));
  }
  auto start = attributes.find(kStart);
  if (start != attributes.end()) owner.process_start = start->second;
  return owner;
}

const char* const* owner_attribute_names() { return kNames; }

OwnerState owner_state(const RunOwner& owner) {
  const RunOwner self = this_process_owner();
  if (owner.host != self.host) return OwnerState::other_host;
  const bool same_start = owner.process_start.empty() || self.process_start.empty() ||
                          owner.process_start == self.process_start;
  if (owner.pid == self.pid && same_start) return OwnerState::this_process;
  if (::kill(static_cast<pid_t>(owner.pid), 0) != 0 && errno == ESRCH) return OwnerState::dead;
  if (stat_field(owner.pid, 3) == "Z") return OwnerState::dead;  // exited, not yet reaped
  // The pid exists (EPERM: it belongs to another user). It is the owner unless /proc shows that
  // it started at another time, i.e. the pid was recycled after the owner died.
  if (!owner.process_start.empty()) {
    const std::string now = process_start_of(owner.pid);
    if (!now.empty() && now != owner.process_start) return OwnerState::dead;
  }
  return OwnerState::alive;
}

std::string describe_owner(const RunOwner& owner, const std::string& started) {
  return cat("process ", owner.pid, " on host ", owner.host, started.empty() ? "" : cat(" (begun ", started, ")"));
}

}  // namespace abq::store

// The process that holds a running run: host, pid and the process's start time, recorded as run
// attributes by begin_run. A second writer may take over a `running` run only when its owner is
// dead (killed, crashed, host rebooted); a run held by a live process is never replaced. Liveness
// can be checked only on the owner's own host (kill(pid, 0), then the start time so that a
// recycled pid does not count as the owner).
#pragma once

#include <map>
#include <optional>
#include <string>

namespace abq::store {

struct RunOwner {
  std::string host;
  long pid = 0;
  /// "<boot id>/<start time in clock ticks since boot>" from /proc; empty where /proc is missing.
  std::string process_start;
};

enum class OwnerState {
  this_process,  // the caller itself
  alive,         // another live process on this host
  dead,          // no such process on this host (or the pid now belongs to another process)
  other_host,    // on another host: liveness cannot be checked from here
};

/// The calling process.
RunOwner this_process_owner();

/// Attribute names and values that record `owner` (owner_host, owner_pid, owner_process_start).
std::map<std::string, std::string> owner_attributes(const RunOwner& owner);
/// The owner recorded in a run's attributes; nullopt when it has none (runs begun before owners
/// were recorded, or failed runs that never began).
std::optional<RunOwner> owner_from_attributes(const std::map<std::string, std::string>& attributes);
/// Names of the owner attributes (for removing them when a run stops running).
const char* const* owner_attribute_names();

OwnerState owner_state(const RunOwner& owner);

/// "process 1234 on host gpu-7 (started 2026-12-03T07:00:00Z)" for messages; `started` is the
/// run's begin time.
std::string describe_owner(const RunOwner& owner, const std::string& started);

}  // namespace abq::store

// A request to stop a run early and resumably: set from a signal handler (a Slurm job told to
// leave before its time limit or a preemption, `--signal=B:USR1@SECONDS`), read where a run can
// stop without losing work: after each committed calibration block (its checkpoint is on disk)
// and between the stages of a run.
#pragma once

#include <string>

#include "framework/core/error.h"

namespace abq::pipeline {

/// Async-signal-safe: only sets a flag.
void request_stop() noexcept;
bool stop_requested() noexcept;
/// Clears the request (tests; a process that handled one and goes on).
void clear_stop_request() noexcept;

/// Thrown where a run stops on request; `what` says where (e.g. "after calibration block 3 of 8").
class StopRequested : public Error {
 public:
  using Error::Error;
};

/// Throws StopRequested("... at <where>") when a stop was requested.
void stop_if_requested(const std::string& where);

}  // namespace abq::pipeline

// Run-time choice of the ISA the CPU kernels use, and their thread count (internal to kernels/cpu).
#pragma once

#include <string>

#include "kernels/cpu/cpu_job.h"
#include "kernels/cpu/cpu_kernels.h"

namespace abq::kernels::cpu {

/// Whether this CPU (and OS) supports `isa`.
bool isa_supported(abq_cpu_isa isa);

/// Kernel table of the ISA calls use now: the forced one (abq_cpu_force_isa, else ABQ_CPU_ISA read
/// once), else the best. Returns nullptr with `error` set when the forced ISA is unknown or unsupported.
const IsaKernels* active_kernels(std::string& error);

/// Threads a call uses.
int call_threads();

}  // namespace abq::kernels::cpu

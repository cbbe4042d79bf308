// The process attributes that are neither identity nor confinement:
// scheduling policy (process.scheduler), I/O priority (process.ioPriority)
// and execution domain (linux.personality).
#pragma once

#include "berth/oci/runtime_spec.h"

namespace berth::runtime {

// Checks names and ranges, so that create reports a bad value.
void validate_process_attributes(const oci::Process& process, const oci::Linux& linux);

// Applies them to the calling process; before the user change, since real-time
// policies need CAP_SYS_NICE.
void apply_process_attributes(const oci::Process& process, const oci::Linux& linux);

} // namespace berth::runtime

// OCI lifecycle hooks: each a program given the container's state on stdin,
// killed when it outlives its timeout.
#pragma once

#include "berth/oci/runtime_spec.h"

#include <string>
#include <vector>

namespace berth::runtime {

// Runs `hooks` in order; the first that fails throws "<stage> hook <path>: ...".
void run_hooks(const std::vector<oci::Hook>& hooks, const char* stage,
               const std::string& state_json);

// The same, but a failure is only logged as a warning and the rest still run
// (the spec's rule for poststart and poststop).
void run_hooks_warning_only(const std::vector<oci::Hook>& hooks, const char* stage,
                            const std::string& state_json);

} // namespace berth::runtime

// The last steps of the container's init, inside the container: become the
// process config.json describes (rlimits, user, capabilities, cwd, fds) and exec it.
#pragma once

#include "berth/oci/runtime_spec.h"
#include "berth/runtime/seccomp.h"
#include "capabilities.h"

#include <optional>
#include <string>

namespace berth::runtime {

struct PreparedProcess {
    std::string executable; // args[0] resolved against the container's PATH
    std::optional<CapabilitySets> capabilities;
    // linux.seccomp, compiled by the runtime before the clone.
    const seccomp::Filter* seccomp = nullptr;
    // With SCMP_ACT_NOTIFY: a socket already connected to listenerPath (the
    // path may not be visible from inside), and the state to send with the fd.
    int seccomp_listener = -1;
    std::string state_json;
};

// Checked before the container counts as created, so a missing binary fails
// `create` with runc's message rather than surfacing at `start`.
// Also sets the rlimits now, so that one above what the host allows fails
// `create`, naming the limit.
PreparedProcess prepare_process(const oci::Process& process);

// Applies the process's identity and confinement: capabilities, user,
// no_new_privs, umask, cwd, the fds that cross the exec, seccomp.
void enter_process(const oci::Process& process, const PreparedProcess& prepared, int preserve_fds);
// Execs the entered process. Never returns.
[[noreturn]] void exec_prepared(const oci::Process& process, const PreparedProcess& prepared);
// enter_process, then exec_prepared.
[[noreturn]] void exec_process(const oci::Process& process, const PreparedProcess& prepared,
                               int preserve_fds);

// The environment's PATH, or the default runc uses when the spec sets none.
std::string path_variable(const std::vector<std::string>& env);

} // namespace berth::runtime

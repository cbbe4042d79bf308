// Creating a container: the step the other lifecycle operations build on.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/oci/runtime_spec.h"
#include "berth/runtime/runtime.h"
#include "berth/runtime/seccomp.h"
#include "state_store.h"

#include <csignal>
#include <optional>

namespace berth::runtime {

struct CreatedContainer {
    pid_t pid = 0;
    UniqueFd pidfd;          // the init, our child until we exit
    UniqueFd console_master; // when the terminal stays with us (foreground run)
    bool started = false;    // options.start_at_once honoured: the init was let go
};

// linux.seccomp compiled (errors name the field), or none.
std::optional<seccomp::Filter> compile_seccomp(const oci::Spec& spec,
                                               const std::string& state_root);

// `keep_console`: a terminal without --console-socket stays with the caller.
// `init_sigmask`: the signal mask the init restores (the caller may block some).
CreatedContainer create_container(StateStore& store, const CreateOptions& options,
                                  bool keep_console, const sigset_t* init_sigmask);

} // namespace berth::runtime

// Creating a container: the step the other lifecycle operations build on.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/runtime/runtime.h"
#include "state_store.h"

#include <csignal>

namespace berth::runtime {

struct CreatedContainer {
    pid_t pid = 0;
    UniqueFd pidfd;          // the init, our child until we exit
    UniqueFd console_master; // when the terminal stays with us (foreground run)
};

// `keep_console`: a terminal without --console-socket stays with the caller.
// `init_sigmask`: the signal mask the init restores (the caller may block some).
CreatedContainer create_container(StateStore& store, const CreateOptions& options,
                                  bool keep_console, const sigset_t* init_sigmask);

} // namespace berth::runtime

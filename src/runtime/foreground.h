// A foreground `run`: the runtime stays with its container like a shell with
// its child, passing on signals (and, with a terminal, the bytes and the
// window size) until the container's process exits.
#pragma once

#include "berth/base/unique_fd.h"

#include <csignal>
#include <sys/types.h>

namespace berth::runtime {

// The signals a foreground run takes over; block them before creating.
sigset_t forwarded_signals();

// Waits for the init; returns its exit code, or 128 + the signal that killed it.
int wait_in_foreground(pid_t pid, int pidfd, int console_master);

} // namespace berth::runtime

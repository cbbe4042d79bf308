// `berth exec -d`: the process runs on after the command returns.
#pragma once

#include "container_runtime.h"

#include <string>

namespace berth::engine {

// Starts `options` in the container and returns once the process runs (or
// throws the runtime's error, as a foreground exec would). A keeper process
// of its own, outside the container, waits for it: a process of the
// container's pid namespace left unreaped (its parent gone, the host's init
// slow to reap) would keep that namespace, and so `stop`, from finishing.
// With `options.tty` the process gets a terminal, handed to the keeper over
// a console socket in `run_root`, which the keeper holds (its output read
// and dropped) while the process runs, as docker's `exec -d -t`.
void exec_detached(ContainerRuntime& runtime, runtime::ExecOptions options,
                   const std::string& run_root);

} // namespace berth::engine

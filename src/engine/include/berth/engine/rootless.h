// Rootless berth, as podman does it: every berth command of an unprivileged
// user runs as root of one user namespace of the user's (with a mount
// namespace of its own), which a small `berth-pause` process holds. There the
// engine may mount a container's overlay (the kernel allows overlay in a user
// namespace), and the mounts outlive the command that made them, for the
// monitor and the next commands.
#pragma once

#include <string>

namespace berth::engine {

// For an unprivileged caller (euid != 0): fixes the defaults of --root and
// the run root to the user's own directories ($XDG_DATA_HOME/berth,
// $XDG_RUNTIME_DIR/berth, exported as BERTH_ROOT/BERTH_RUNROOT unless set),
// then joins the namespaces of the user's pause process, starting it first
// if none runs. The user's uid becomes 0 there; /etc/subuid and
// /etc/subgid ranges (through newuidmap/newgidmap) give the ids 1..N, else
// the user's own id is the only one. Must run while the process has one
// thread; re-executes `argv` inside (so returns only as root). Does nothing
// as root.
void enter_rootless_namespace(char** argv);

// Where the pause process's "pid starttime" is kept under `run_root`.
std::string pause_pid_path(const std::string& run_root);

} // namespace berth::engine
